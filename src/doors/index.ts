import { doorSettings, type Config } from '../config';
import type { Core } from '../core';
import type { Door } from '../http/routes';
import { consoleDoor } from './console';
import { crafterDoor } from './crafter';
import { zatoDoor } from './zato';
import { xwebDoor } from './xweb';

/** Every door, each given only its own settings. */
export function buildDoors(config: Config, core: Core): Door[] {
  const own = doorSettings(config);
  return [crafterDoor(own.crafter, core), xwebDoor(own.xweb, core), zatoDoor(own.zato, core), consoleDoor(own.console, core)];
}
