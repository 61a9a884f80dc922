import { Router } from 'express';
import type { Config } from '../../config';
import type { Core } from '../../core';
import { soapEndpoint } from '../../http/soap/endpoint';
import { xwebJsonRoutes } from './json';
import { xwebSoapDoor } from './soap';

/**
 * The netFORUM xWeb door: Authenticate, WebLogin, WebValidate and WebLogout over SOAP
 * (`/xweb/secure/netForumXML.asmx`, WSDL at `?WSDL`) and JSON (`/xweb/JSON/<Method>`).
 */
export function xwebDoor(config: Config, core: Core): Router {
  const deps = { core, xweb: config.xweb };
  const router = Router();
  // Every answer here hands back the integrator token (SOAP header, WWW-Authenticate) or a customer token or
  // key: no cache may keep one.
  router.use('/xweb', (_req, res, next) => {
    res.set('Cache-Control', 'no-store');
    next();
  });
  router.use(soapEndpoint(xwebSoapDoor(deps, config.xmlLimit)));
  router.use(xwebJsonRoutes(deps, config.jsonLimit));
  return router;
}
