/**
 * A minimal browser stand-in over real HTTP: keeps cookies, follows nothing by itself,
 * and reads the CSRF token out of a page's form.
 */
export class WebClient {
  private readonly cookies = new Map<string, string>();

  constructor(readonly baseUrl: string) {}

  async get(path: string, headers: Record<string, string> = {}): Promise<WebResponse> {
    return this.request('GET', path, undefined, headers);
  }

  /** Posts a urlencoded form, as a browser does. */
  async postForm(path: string, form: Record<string, string>, headers: Record<string, string> = {}): Promise<WebResponse> {
    return this.request('POST', path, new URLSearchParams(form).toString(), { 'content-type': 'application/x-www-form-urlencoded', ...headers });
  }

  async request(method: string, path: string, body?: string, headers: Record<string, string> = {}): Promise<WebResponse> {
    const cookie = [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    const res = await fetch(this.baseUrl + path, { method, body, redirect: 'manual', headers: { ...(cookie ? { cookie } : {}), ...headers } });
    for (const line of res.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const eq = pair!.indexOf('=');
      const name = pair!.slice(0, eq);
      const value = pair!.slice(eq + 1);
      if (value === '' || /expires=Thu, 01 Jan 1970/i.test(line)) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    return { status: res.status, location: res.headers.get('location'), headers: res.headers, text: await res.text() };
  }

  /** GETs a page and returns the CSRF token of its first form. */
  async csrfFrom(path: string): Promise<string> {
    const page = await this.get(path);
    const m = /name="_csrf" value="([^"]+)"/.exec(page.text);
    if (!m) throw new Error(`no CSRF token on ${path} (status ${page.status})`);
    return m[1]!;
  }

  /** First visit: sets the admin password and keeps the session cookie. */
  async setUp(password: string): Promise<WebResponse> {
    const _csrf = await this.csrfFrom('/setup');
    return this.postForm('/setup', { _csrf, password, confirm: password });
  }

  async logIn(password: string): Promise<WebResponse> {
    const _csrf = await this.csrfFrom('/login');
    return this.postForm('/login', { _csrf, password });
  }
}

export interface WebResponse {
  status: number;
  location: string | null;
  headers: Headers;
  text: string;
}
