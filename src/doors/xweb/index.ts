import { Router } from 'express';
import type { DoorSettings } from '../../config';
import type { Core } from '../../core';
import { withHeaders, type DoorRoutes } from '../../http/front';
import { NO_STORE } from '../../http/reply';
import { soapEndpoint } from '../../http/soap/endpoint';
import { xwebJsonRoutes } from './json';
import { xwebSoapDoor } from './soap';


/**
 * The netFORUM xWeb door: Authenticate, WebLogin, WebValidate and WebLogout over SOAP
 * (`/xweb/secure/netForumXML.asmx`, WSDL at `?WSDL`) and JSON (`/xweb/JSON/<Method>`).
 */
export function xwebDoor(config: DoorSettings['xweb'], core: Core): DoorRoutes {
  const deps = { core, xweb: config };
  const router = Router();
  // Every answer here hands back the integrator token (SOAP header, WWW-Authenticate) or a customer token or
  // key: no cache may keep one.
  router.use('/xweb', (_req, res, next) => {
    res.set(NO_STORE);
    next();
  });
  const soap = soapEndpoint(xwebSoapDoor(deps, config.xmlLimit));
  router.use(soap.router);
  router.use(xwebJsonRoutes(deps, config.jsonLimit));
  return { router, direct: [withHeaders(soap.route, NO_STORE)] };
}
