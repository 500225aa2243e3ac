/** The home page's words in each language the demo speaks; the choice is kept in the session. */
export const languages = {
  en: {
    name: 'English',
    greeting: 'Hello, visitor!',
    intro:
      'This session is anonymous: no account, just a signed cookie that points at a record on the server.',
    likesTitle: 'Things you like',
    noLikes: 'Nothing yet. Tell us something you like.',
    like: 'Add',
    likePlaceholder: 'e.g. tea',
    language: 'Language',
    change: 'Change',
    forgetTitle: 'Forget me',
    forgetText:
      'Deletes this session and everything in it from the server, and expires the cookie.',
    forget: 'Forget me',
  },
  fr: {
    name: 'Français',
    greeting: 'Bonjour, visiteur !',
    intro:
      'Cette session est anonyme : pas de compte, seulement un cookie signé qui désigne un enregistrement sur le serveur.',
    likesTitle: 'Ce que vous aimez',
    noLikes: 'Rien pour l’instant. Dites-nous ce que vous aimez.',
    like: 'Ajouter',
    likePlaceholder: 'p. ex. le thé',
    language: 'Langue',
    change: 'Changer',
    forgetTitle: 'Oubliez-moi',
    forgetText: 'Supprime cette session et tout son contenu du serveur, et fait expirer le cookie.',
    forget: 'Oubliez-moi',
  },
} as const;

export type Lang = keyof typeof languages;

export function isLang(value: unknown): value is Lang {
  return typeof value === 'string' && Object.hasOwn(languages, value);
}

/** The session's language, else the browser's first supported one (Accept-Language), else English. */
export function pickLang(stored: unknown, acceptLanguage: string | undefined): Lang {
  if (isLang(stored)) return stored;
  for (const part of (acceptLanguage ?? '').split(',')) {
    const tag = part.split(';')[0]?.trim().slice(0, 2).toLowerCase();
    if (isLang(tag)) return tag;
  }
  return 'en';
}
