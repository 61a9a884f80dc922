import { Router } from 'express';
import type { DoorSettings } from '../../config';
import type { Core } from '../../core';
import { withHeaders, type DoorRoutes } from '../../http/front';
import { NO_STORE } from '../../http/reply';
import { wsdlResponder } from '../../http/soap/endpoint';
import { zatoJson } from './json';
import { SOAP_PATH, WSDL_FILE, zatoSoap } from './soap';

const DOOR = 'zato';

/**
 * The Zato door: the `zato.security.jwt.*` services of `services.ts` over SOAP 1.1 (`POST /zato/soap`, WSDL at
 * `GET /zato/soap?wsdl` and `GET /public-api/zato.wsdl`) and JSON (`POST /zato/json/<service>`, and the Zato 3
 * style `POST /zato/jwt/log-in` and `/zato/jwt/log-out`).
 */
export function zatoDoor(config: DoorSettings['zato'], core: Core): DoorRoutes {
  const router = Router();
  // Every answer here carries or concerns a session or an account: no cache may keep it.
  router.use('/zato', (_req, res, next) => {
    res.set(NO_STORE);
    next();
  });
  router.get('/public-api/zato.wsdl', wsdlResponder({ wsdlFile: WSDL_FILE, path: SOAP_PATH }));
  const soap = zatoSoap(config, core, DOOR);
  const json = zatoJson(config, core, DOOR);
  router.use(soap.router);
  router.use(json.router);
  return { router, direct: [soap.route, ...json.direct].map((route) => withHeaders(route, NO_STORE)) };
}
