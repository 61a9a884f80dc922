import type { DoorSettings } from '../../config';
import type { Core } from '../../core';
import { notFound } from '../../http/pipeline';
import { NO_STORE } from '../../http/reply';
import type { Door } from '../../http/routes';
import { wsdlResponder } from '../../http/soap/endpoint';
import { sendJsonError, zatoJson } from './json';
import { SOAP_PATH, WSDL_FILE, zatoSoap } from './soap';

const DOOR = 'zato';

/**
 * The Zato door: the `zato.security.jwt.*` services of `services.ts` over SOAP 1.1 (`POST /zato/soap`, WSDL at
 * `GET /zato/soap?wsdl` and `GET /public-api/zato.wsdl`) and JSON (`POST /zato/json/<service>`, and the Zato 3
 * style `POST /zato/jwt/log-in` and `/zato/jwt/log-out`). Its errors go out as JSON, except on the SOAP
 * endpoint, which answers faults.
 */
export function zatoDoor(config: DoorSettings['zato'], core: Core): Door {
  return {
    name: DOOR,
    // Every answer here carries or concerns a session or an account: no cache may keep it.
    headers: NO_STORE,
    routes: [
      { methods: ['GET'], path: '/public-api/zato.wsdl', operation: 'wsdl', handle: wsdlResponder({ wsdlFile: WSDL_FILE, path: SOAP_PATH }) },
      ...zatoSoap(config, core),
      ...zatoJson(config, core),
      // Any other path of the door: the plain 404, with the door's headers.
      { methods: 'any', path: '/zato/*', handle: async (x) => notFound(x) },
    ],
    fail: sendJsonError,
  };
}
