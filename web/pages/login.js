import { signIn, h } from '../api.js';
import { t } from '../i18n.js';

/** @param {HTMLElement} view @param {URLSearchParams} [params] */
export function show(view, params) {
  const user = h('input', { name: 'user', autocomplete: 'username', required: true, autofocus: true });
  const password = h('input', { name: 'password', type: 'password', autocomplete: 'current-password', required: true });
  const msg = h('div', { role: 'alert' });
  const form = h('form', { class: 'login panel', onsubmit: async (e) => {
    e.preventDefault();
    msg.replaceChildren();
    try {
      await signIn(user.value.trim(), password.value);
      location.hash = '#/';
    } catch (err) {
      msg.replaceChildren(h('div', { class: 'error' }, err.status === 401 ? t('wrong') : err.message));
    }
  } },
  h('h2', {}, `Vigie — ${t('login')}`),
  h('label', {}, t('user'), user),
  h('label', {}, t('password'), password),
  h('button', { class: 'primary', type: 'submit' }, t('signin')),
  msg);
  view.replaceChildren(form);
  user.focus();
  return {};
}
