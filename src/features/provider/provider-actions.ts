import type { AccountView, TelegramAccount } from '../../telegram/accounts.js';
import { NotFoundError, type NumberView, type Provider, type ProviderSummary } from './provider.js';

/** The login actions the page and the API offer for a client or gateway component. */
export const LOGIN_STEPS = ['authorize', 'qr', 'code', 'resend', 'password', 'name', 'cancel', 'logout'] as const;
export type LoginStep = (typeof LOGIN_STEPS)[number];

export function loginStepOf(text: string): LoginStep | null {
  return (LOGIN_STEPS as readonly string[]).includes(text) ? (text as LoginStep) : null;
}

/**
 * Runs one login action with the form's or the request's fields (`code`, `password`,
 * `first_name`, `last_name`). The answer is the account's state afterwards; a wrong answer
 * shows in its `error`, never as an exception.
 */
export async function runLoginStep(account: TelegramAccount, step: LoginStep, body: Record<string, unknown> | null | undefined): Promise<AccountView> {
  const field = (name: string) => {
    const v = body?.[name];
    return typeof v === 'string' ? v : typeof v === 'number' ? String(v) : '';
  };
  switch (step) {
    case 'authorize':
      return account.beginLogin();
    case 'qr':
      return account.beginQrLogin();
    case 'code':
      return account.submitCode(field('code'));
    case 'resend':
      return account.resendCode();
    case 'password':
      return account.submitPassword(field('password'));
    case 'name':
      return account.submitName(field('first_name'), field('last_name'));
    case 'cancel':
      return account.cancelLogin();
    case 'logout':
      await account.logOut();
      return account.view;
  }
}

/** The number named by a path's `:id`, or null. */
export function findNumber(provider: Provider, params: { id: string }): NumberView | null {
  if (!/^\d{1,9}$/.test(params.id)) return null;
  try {
    return provider.find(Number(params.id));
  } catch (err) {
    if (err instanceof NotFoundError) return null;
    throw err;
  }
}

/** Everything the page's live updates and GET /api/v1/provider carry. No secret is in it. */
export function providerState(provider: Provider): { summary: ProviderSummary; numbers: NumberView[] } {
  return { summary: provider.summary(), numbers: provider.list() };
}
