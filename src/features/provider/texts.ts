import type { SettingsStore } from '../../settings/settings-store.js';

/** The provider's editable texts: what the settings keys `provider.text.*` name. */
export type ProviderTextKey = 'keyboard' | 'business_card' | 'auto_reply';

const DEFAULTS: Record<'en' | 'ru', Record<ProviderTextKey, string>> = {
  en: {
    keyboard: 'Dial the extension number:',
    business_card: 'We tried to call you. Press the button and we will call you back.',
    auto_reply: 'This number takes calls only. Please call us, we will answer.',
  },
  ru: {
    keyboard: 'Наберите добавочный номер:',
    business_card: 'Мы пытались до вас дозвониться. Нажмите кнопку, и мы перезвоним.',
    auto_reply: 'Этот номер принимает только звонки. Позвоните нам, мы ответим.',
  },
};

/** The default texts in a language (shown as placeholders on the page). */
export function defaultTexts(language: string): Record<ProviderTextKey, string> {
  return DEFAULTS[language === 'ru' ? 'ru' : 'en'];
}

/** The text to send: the admin's own, else the default in the language of messages. */
export function providerText(settings: SettingsStore, key: ProviderTextKey): string {
  const own = settings.get(`provider.text.${key}`);
  return own || defaultTexts(settings.get('general.language'))[key];
}
