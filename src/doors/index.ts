import type { Router } from 'express';
import type { Config } from '../config';
import type { Core } from '../core';
import { openApiRoute } from '../http/openapi';
import { consoleDoor } from './console';
import { crafterDoor } from './crafter';
import { zatoDoor } from './zato';
import { xwebDoor } from './xweb';

/** Every door's routes, in the order they are mounted. */
export function buildDoors(config: Config, core: Core): Router[] {
  return [
    crafterDoor(config, core),
    xwebDoor(config, core),
    zatoDoor(config, core),
    consoleDoor(config, core),
    // The OpenAPI document of the JSON routes, with the Crafter door's paths under its configured prefix.
    openApiRoute((path) => path.replace(/^\/studio(?=\/)/, config.crafterPrefix)),
  ];
}
