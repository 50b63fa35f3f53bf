/**
 * Masks secrets in any text before it leaves the process (log lines, error messages shown on
 * pages). Knows the shape of Telegram bot tokens, and every secret value registered at run time
 * (api_hash, AMI secret, session strings...), so a secret is masked wherever it ends up,
 * even inside a stack trace or a URL.
 */
export class SecretScrubber {
  private readonly secrets = new Set<string>();
  private static readonly botToken = /(?<!\d)\d{5,12}:[A-Za-z0-9_-]{20,}/g;

  /** Registers a value that must never be printed. Short values are ignored (they would mask ordinary words). */
  add(secret: string | null | undefined): void {
    if (secret && secret.length >= 6) this.secrets.add(secret);
  }

  /** Forgets a value, e.g. after a token was replaced. */
  remove(secret: string | null | undefined): void {
    if (secret) this.secrets.delete(secret);
  }

  /** Returns the text with every known secret and token-shaped string replaced by a mask. */
  scrub(text: string): string {
    let out = text.replace(SecretScrubber.botToken, (token) => `<bot-token ${mask(token)}>`);
    for (const secret of this.secrets) {
      if (out.includes(secret)) out = out.split(secret).join('<secret>');
      const encoded = encodeURIComponent(secret);
      if (encoded !== secret && out.includes(encoded)) out = out.split(encoded).join('<secret>');
    }
    return out;
  }
}

/** Shows only the last four characters of a secret: `••••1234`. Safe for pages and logs. */
export function mask(secret: string | null | undefined): string {
  if (!secret) return '';
  return '••••' + secret.slice(-4);
}
