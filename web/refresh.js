// Pages served outside the app (an audience's status page) read again every minute: the figures stay current on a
// screen left open. A script file, not a meta refresh (which gives no way to stop it) nor inline code (the content
// security policy forbids it).
const MINUTE = 60 * 1000;
setTimeout(() => location.reload(), MINUTE);
