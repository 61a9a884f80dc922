import { postSoap } from '../support/wire';

export { NIL_GUID } from '../support/wire';

/** A small client of each door's JSON routes, as a caller of that door would write it. */

interface Reply {
  status: number;
  headers: Headers;
  body: any;
}

async function call(url: string, init: RequestInit): Promise<Reply> {
  const res = await fetch(url, init);
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : undefined };
}

const json = (body: unknown, headers: Record<string, string> = {}): RequestInit => ({
  method: 'POST',
  headers: { 'Content-Type': 'application/json', ...headers },
  body: JSON.stringify(body),
});

export class Zato {
  constructor(private readonly base: string) {}

  async logIn(username: string, password: string, token?: string): Promise<string> {
    const reply = await call(`${this.base}/zato/json/zato.security.jwt.log-in`, json({ username, password, ...(token ? { token } : {}) }));
    if (reply.status !== 200) throw new Error(`zato log-in: ${reply.status} ${JSON.stringify(reply.body)}`);
    return reply.body.zato_security_jwt_log_in_response.token as string;
  }

  logOut(token: string): Promise<Reply> {
    return call(`${this.base}/zato/json/zato.security.jwt.log-out`, json({ token }));
  }

  async soapLogOut(token: string): Promise<{ status: number; text: string }> {
    const { status, text } = await postSoap(
      `${this.base}/zato/soap`,
      '<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:zato="https://zato.io/ns/20130518">' +
        `<soapenv:Body><zato:zato_security_jwt_log_out_request><zato:token>${token}</zato:token>` +
        '</zato:zato_security_jwt_log_out_request></soapenv:Body></soapenv:Envelope>',
      'zato.security.jwt.log-out',
    );
    return { status, text };
  }
}

export class XWeb {
  private integratorToken = '';

  constructor(private readonly base: string) {}

  async authenticate(userName: string, password: string): Promise<void> {
    const reply = await call(`${this.base}/xweb/JSON/Authenticate`, json({ Authenticate: { userName, password } }));
    if (reply.status !== 200) throw new Error(`xweb Authenticate: ${reply.status} ${JSON.stringify(reply.body)}`);
    this.integratorToken = reply.body.Token as string;
  }

  /** Calls a method as an integrator, keeping the (possibly rotated) token it hands back. */
  private async method(name: string, params: Record<string, string>): Promise<Reply> {
    const reply = await call(`${this.base}/xweb/JSON/${name}`, json({ [name]: params }, { Authorization: `Bearer ${this.integratorToken}` }));
    const rotated = /^Bearer token = (\S+)$/.exec(reply.headers.get('www-authenticate') ?? '')?.[1];
    if (rotated) this.integratorToken = rotated;
    return reply;
  }

  async webLogin(userLoginPlain: string, passwordPlain: string): Promise<string> {
    const reply = await this.method('WebLogin', { userLoginPlain, passwordPlain });
    if (reply.status !== 200) throw new Error(`xweb WebLogin: ${reply.status} ${JSON.stringify(reply.body)}`);
    return reply.body.WebLoginResult as string;
  }

  /** The customer key of a live session, the nil GUID for a dead one. */
  async webValidate(authenticationToken: string): Promise<string> {
    const reply = await this.method('WebValidate', { authenticationToken });
    if (reply.status !== 200) throw new Error(`xweb WebValidate: ${reply.status} ${JSON.stringify(reply.body)}`);
    return reply.body.WebValidateResult as string;
  }

  webLogout(authenticationToken: string): Promise<Reply> {
    return this.method('WebLogout', { authenticationToken });
  }
}

export class Crafter {
  private readonly prefix = '/studio/api/1/services/api/1/security';

  constructor(private readonly base: string) {}

  /** Logs in with an XSRF pair of its own choosing; the JSESSIONID value. */
  async logIn(username: string, password: string): Promise<string> {
    const xsrf = 'cross-door-xsrf';
    const reply = await call(
      `${this.base}${this.prefix}/login.json`,
      json({ username, password }, { Cookie: `XSRF-TOKEN=${xsrf}`, 'X-XSRF-TOKEN': xsrf }),
    );
    if (reply.status !== 200) throw new Error(`crafter login: ${reply.status} ${JSON.stringify(reply.body)}`);
    const cookie = reply.headers.getSetCookie().find((c) => c.startsWith('JSESSIONID='))!;
    return /^JSESSIONID=([^;]*)/.exec(cookie)![1]!;
  }

  async isActive(session: string): Promise<boolean> {
    const reply = await call(`${this.base}${this.prefix}/validate-session.json`, { headers: { Cookie: `JSESSIONID=${session}` } });
    if (reply.status !== 200) throw new Error(`crafter validate: ${reply.status} ${JSON.stringify(reply.body)}`);
    return reply.body.active as boolean;
  }

  logOut(session: string): Promise<Reply> {
    return call(`${this.base}${this.prefix}/logout.json`, { method: 'POST', headers: { Cookie: `JSESSIONID=${session}` } });
  }
}
