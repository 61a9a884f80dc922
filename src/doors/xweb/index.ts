import type { DoorSettings } from '../../config';
import type { Core } from '../../core';
import { notFound } from '../../http/pipeline';
import { NO_STORE } from '../../http/reply';
import type { Door } from '../../http/routes';
import { soapEndpoint } from '../../http/soap/endpoint';
import { sendJsonError, xwebJsonRoute } from './json';
import { XWEB_DOOR } from './operations';
import { xwebSoapDoor } from './soap';

/**
 * The netFORUM xWeb door: Authenticate, WebLogin, WebValidate and WebLogout over SOAP
 * (`/xweb/secure/netForumXML.asmx`, WSDL at `?WSDL`) and JSON (`/xweb/JSON/<Method>`). Its errors go out as
 * JSON, except on the SOAP endpoint, which answers faults.
 */
export function xwebDoor(config: DoorSettings['xweb'], core: Core): Door {
  const deps = { core, xweb: config };
  return {
    name: XWEB_DOOR,
    // Every answer here hands back the integrator token (SOAP header, WWW-Authenticate) or a customer token or
    // key: no cache may keep one.
    headers: NO_STORE,
    routes: [
      ...soapEndpoint(xwebSoapDoor(deps, config.xmlLimit)),
      xwebJsonRoute(deps, config.jsonLimit),
      // Any other path of the door: the plain 404, with the door's headers.
      { methods: 'any', path: '/xweb/*', handle: async (x) => notFound(x) },
    ],
    fail: sendJsonError,
  };
}
