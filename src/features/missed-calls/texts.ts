import type { Language } from './service.js';

/** Everything the missed-calls bot says, in English and Russian. */
export const BOT_TEXTS = {
  en: {
    description: 'I send notices about missed calls of your office phone system (PBX): who called, whom, when, and how long it rang. Ask your PBX administrator for an activation key.',
    shortDescription: 'Missed-call notices from your office PBX',
    help: [
      'I send you a notice for every call your extension or your group missed at the office phone system.',
      '',
      '/activate <key> — subscribe (the key comes from your PBX administrator), or switch notices on again',
      '/mute <key> — switch the notices of that key off',
      '/status — what this chat is subscribed to',
      '/help — this message',
    ].join('\n'),
    commands: { activate: 'Subscribe with a key from the administrator', mute: 'Switch notices of a key off', status: 'What this chat is subscribed to', help: 'What I do' },
    subscribed: (what: string) => `Done: you will get a notice for every missed call of ${what}.`,
    resumed: (what: string) => `Notices for ${what} are on again.`,
    alreadyOn: (what: string) => `You are already subscribed to ${what}; notices are on.`,
    disabledByAdmin: (what: string) => `The administrator has switched off your notices for ${what}. Only he can switch them on again.`,
    wrongKey: 'This key is not valid. Check it, or ask your PBX administrator for a new one.',
    throttled: 'Too many wrong keys. Try again in 10 minutes.',
    needKey: (command: string) => `Send the key with the command, for example: /${command} AbC123…`,
    muted: (what: string) => `Notices for ${what} are off. Send /activate with the same key to switch them on again.`,
    notSubscribed: (what: string) => `This chat is not subscribed to ${what}.`,
    alreadyOff: (what: string) => `Notices for ${what} are already off.`,
    statusNone: 'This chat is not subscribed to anything yet. Send /activate <key>.',
    statusTitle: 'This chat is subscribed to:',
    statusLine: { on: 'notices on', muted: 'muted by you', disabled: 'disabled by the administrator' },
    extension: (ext: string, name: string) => (name ? `extension ${ext} (${name})` : `extension ${ext}`),
    group: (name: string) => `group "${name}"`,
    adminOn: (what: string) => `The administrator has switched on your missed-call notices for ${what}.`,
    adminOff: (what: string) => `The administrator has switched off your missed-call notices for ${what}.`,
    groupOn: (name: string) => `Missed-call notices for group "${name}" are on.`,
    groupOff: (name: string) => `Missed-call notices for group "${name}" are off.`,
  },
  ru: {
    description: 'Я присылаю уведомления о пропущенных звонках офисной АТС: кто звонил, кому, когда и сколько звонил. Ключ активации выдаёт администратор АТС.',
    shortDescription: 'Уведомления о пропущенных звонках АТС',
    help: [
      'Я присылаю уведомление о каждом звонке, пропущенном вашим номером или вашей группой на офисной АТС.',
      '',
      '/activate <ключ> — подписаться (ключ выдаёт администратор АТС) или снова включить уведомления',
      '/mute <ключ> — выключить уведомления по этому ключу',
      '/status — на что подписан этот чат',
      '/help — это сообщение',
    ].join('\n'),
    commands: { activate: 'Подписаться по ключу администратора', mute: 'Выключить уведомления по ключу', status: 'На что подписан этот чат', help: 'Что я умею' },
    subscribed: (what: string) => `Готово: вы будете получать уведомления о каждом пропущенном звонке: ${what}.`,
    resumed: (what: string) => `Уведомления снова включены: ${what}.`,
    alreadyOn: (what: string) => `Вы уже подписаны: ${what}; уведомления включены.`,
    disabledByAdmin: (what: string) => `Администратор выключил ваши уведомления (${what}). Включить их снова может только он.`,
    wrongKey: 'Ключ не подходит. Проверьте его или попросите новый у администратора АТС.',
    throttled: 'Слишком много неверных ключей. Попробуйте через 10 минут.',
    needKey: (command: string) => `Отправьте ключ вместе с командой, например: /${command} AbC123…`,
    muted: (what: string) => `Уведомления выключены: ${what}. Чтобы включить, отправьте /activate с тем же ключом.`,
    notSubscribed: (what: string) => `Этот чат не подписан: ${what}.`,
    alreadyOff: (what: string) => `Уведомления уже выключены: ${what}.`,
    statusNone: 'Этот чат пока ни на что не подписан. Отправьте /activate <ключ>.',
    statusTitle: 'Подписки этого чата:',
    statusLine: { on: 'уведомления включены', muted: 'выключены вами', disabled: 'выключены администратором' },
    extension: (ext: string, name: string) => (name ? `номер ${ext} (${name})` : `номер ${ext}`),
    group: (name: string) => `группа «${name}»`,
    adminOn: (what: string) => `Администратор включил ваши уведомления о пропущенных звонках: ${what}.`,
    adminOff: (what: string) => `Администратор выключил ваши уведомления о пропущенных звонках: ${what}.`,
    groupOn: (name: string) => `Уведомления о пропущенных звонках группы «${name}» включены.`,
    groupOff: (name: string) => `Уведомления о пропущенных звонках группы «${name}» выключены.`,
  },
} satisfies Record<Language, unknown>;

export type BotTexts = (typeof BOT_TEXTS)['en'];

/** The texts in the language chosen in Settings. */
export function textsIn(language: Language): BotTexts {
  return BOT_TEXTS[language] as BotTexts;
}
