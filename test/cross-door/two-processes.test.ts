import { join } from 'node:path';
import { runCli, startServeProcess, type ServeProcess } from '../support/process';
import { tempDir } from '../support/server';
import { Crafter, NIL_GUID, XWeb, Zato } from './doors';

describe('two server processes on one database file', () => {
  let a: ServeProcess;
  let b: ServeProcess;
  afterEach(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
  });

  it("see each other's log-ins and log-outs at once", async () => {
    const db = join(tempDir(), 'shared.db');
    const settings = { DUALGATE_DB: db, DUALGATE_JWT_SECRET: 'x'.repeat(48) };
    await runCli(['init'], settings);
    await runCli(['user', 'add', 'ann', '--password-stdin'], settings, 'ann-pw\n');
    await runCli(['user', 'add', 'integ', '--password-stdin', '--role', 'integrator'], settings, 'integ-pw\n');
    a = await startServeProcess(settings);
    b = await startServeProcess(settings);
    expect(a.url).not.toBe(b.url);

    const xwebAtB = new XWeb(b.url);
    await xwebAtB.authenticate('integ', 'integ-pw');
    const jwt = await new Zato(a.url).logIn('ann', 'ann-pw');
    const key = await xwebAtB.webValidate(jwt);
    expect(key).toMatch(/^[0-9a-f-]{36}$/);
    expect(key).not.toBe(NIL_GUID);

    const cookie = await new Crafter(b.url).logIn('ann', 'ann-pw');
    expect(await new Crafter(a.url).isActive(cookie)).toBe(true);

    expect((await new Zato(b.url).logOut(jwt)).status).toBe(200);
    expect((await new Crafter(a.url).logOut(cookie)).status).toBe(200);
    const xwebAtA = new XWeb(a.url);
    await xwebAtA.authenticate('integ', 'integ-pw');
    expect(await xwebAtA.webValidate(jwt)).toBe(NIL_GUID);
    expect(await new Crafter(b.url).isActive(cookie)).toBe(false);
  });
});
