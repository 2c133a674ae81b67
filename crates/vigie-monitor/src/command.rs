//! A command check's target, read as a command line: the shell's quoting rules (single quotes, double quotes,
//! backslashes) but **no shell**: no expansion, redirection, pipe, list or substitution. A character that would mean
//! one of those to a shell, outside quotes, refuses the line (and `$` or a backtick inside double quotes, where a shell
//! would expand them). Whatever is accepted means the same to `/bin/sh`: no check changes meaning.
//!
//! Pure: the import refuses a bad target where it is written, and the server's runner (`vigie-server`'s
//! `monitoring/plugins.rs`) splits the same way before it runs anything.

/// Characters refused outside quotes: each would mean something to a shell.
const META: &[char] = &[';', '&', '|', '<', '>', '(', ')', '$', '`', '*', '?', '[', '\n', '\r'];

fn shown(c: char) -> String {
    match c {
        '\n' => "a line break".into(),
        '\r' => "a carriage return".into(),
        '\0' => "a NUL character".into(),
        c => format!("`{c}`"),
    }
}

/// Splits a command line into words as `/bin/sh` would, refusing anything but quoting: see the module's doc.
pub fn split(line: &str) -> Result<Vec<String>, String> {
    const WHY: &str = "command checks run one program without a shell; quote it ('…') to give it to the plugin as is";
    let mut words = Vec::new();
    let mut cur = String::new();
    let mut in_word = false;
    let mut chars = line.chars().enumerate().map(|(i, c)| (i + 1, c));
    while let Some((at, c)) = chars.next() {
        match c {
            '\0' => return Err(format!("{} at character {at}", shown(c))),
            ' ' | '\t' => {
                if in_word {
                    words.push(std::mem::take(&mut cur));
                    in_word = false;
                }
            }
            '\'' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some((_, '\'')) => break,
                        Some((i, '\0')) => return Err(format!("a NUL character at character {i}")),
                        Some((_, c)) => cur.push(c),
                        None => return Err(format!("the single quote at character {at} is not closed")),
                    }
                }
            }
            '"' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some((_, '"')) => break,
                        Some((i, '\\')) => match chars.next() {
                            Some((_, c @ ('$' | '`' | '"' | '\\'))) => cur.push(c),
                            Some((_, '\n')) => {}
                            Some((_, c)) => {
                                cur.push('\\');
                                cur.push(c);
                            }
                            None => return Err(format!("the backslash at character {i} ends the line")),
                        },
                        Some((i, c @ ('$' | '`'))) => {
                            return Err(format!(
                                "{} at character {i} inside double quotes, where a shell would expand it; use \
                                 single quotes",
                                shown(c)
                            ))
                        }
                        Some((i, '\0')) => return Err(format!("a NUL character at character {i}")),
                        Some((_, c)) => cur.push(c),
                        None => return Err(format!("the double quote at character {at} is not closed")),
                    }
                }
            }
            '\\' => match chars.next() {
                // A line continuation.
                Some((_, '\n')) => {}
                Some((i, '\0')) => return Err(format!("a NUL character at character {i}")),
                Some((_, c)) => {
                    in_word = true;
                    cur.push(c);
                }
                None => return Err(format!("the backslash at character {at} ends the line")),
            },
            c if META.contains(&c) => return Err(format!("{} at character {at} outside quotes: {WHY}", shown(c))),
            '#' if !in_word => {
                return Err(format!("`#` at character {at} starts a comment for a shell: {WHY}"));
            }
            c => {
                in_word = true;
                cur.push(c);
            }
        }
    }
    if in_word {
        words.push(cur);
    }
    if words.is_empty() {
        return Err("the command line is empty".into());
    }
    Ok(words)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(line: &str) -> Vec<String> {
        split(line).unwrap_or_else(|e| panic!("{line}: {e}"))
    }

    #[test]
    fn quoting_follows_the_shell() {
        assert_eq!(words("check_dummy 1 'signal faible'"), ["check_dummy", "1", "signal faible"]);
        assert_eq!(words("  a\t b  "), ["a", "b"]);
        assert_eq!(words(r#"a "x y" 'it''s' \; \$HOME"#), ["a", "x y", "its", ";", "$HOME"]);
        assert_eq!(words(r#"a "q\"uote \$x \\ \n""#), ["a", r#"q"uote $x \ \n"#]);
        assert_eq!(words("a '$(touch x); `y` | z'"), ["a", "$(touch x); `y` | z"]);
        assert_eq!(words("a ''"), ["a", ""]);
        assert_eq!(words("a x#y ~:10 -w 80% -c 90%"), ["a", "x#y", "~:10", "-w", "80%", "-c", "90%"]);
        assert_eq!(words("a \\\nb"), ["a", "b"]);
    }

    #[test]
    fn anything_a_shell_would_act_on_is_refused() {
        for (line, what) in [
            ("check_dummy 0 ok; touch /tmp/x", "`;` at character 17 outside quotes"),
            ("check_dummy 0 $(touch /tmp/x)", "`$` at character 15"),
            ("check_dummy 0 `touch /tmp/x`", "at character 15 outside quotes"),
            ("check_dummy 0 ok && touch x", "`&`"),
            ("check_dummy 0 ok | tee x", "`|`"),
            ("check_dummy 0 ok > /tmp/x", "`>`"),
            ("check_dummy 0 < /etc/passwd", "`<`"),
            ("check_dummy 0 \"$(id)\"", "inside double quotes"),
            ("check_dummy 0 \"`id`\"", "inside double quotes"),
            ("check_dummy 0 ok\ntouch x", "a line break"),
            ("check_dummy 0 /tmp/*", "`*`"),
            ("check_dummy 0 ok #x", "comment"),
            ("check_dummy 0 'ok", "single quote at character 15 is not closed"),
            ("check_dummy 0 \"ok", "double quote at character 15 is not closed"),
            ("check_dummy 0 ok\\", "backslash at character 17 ends the line"),
            ("   ", "empty"),
            ("a\0b", "NUL"),
        ] {
            let e = split(line).expect_err(line);
            assert!(e.contains(what), "{line:?}: {e}");
        }
    }
}
