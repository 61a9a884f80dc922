import type { DoorSettings } from '../../../config';
import type { Core } from '../../../core';
import { accountOperations } from './accounts';
import { auditOperations } from './audit';
import { consoleSessionOperations } from './console-session';
import type { ConsoleOperation } from './operation';
import { sessionOperations } from './sessions';

export type { ConsoleAnswer, ConsoleCall, ConsoleOperation } from './operation';

/** Every call of the console's JSON API under /console/api: one row each, each a few steps over the core. */
export function consoleOperations(core: Core, config: DoorSettings['console']): readonly ConsoleOperation[] {
  return [...consoleSessionOperations(core, config), ...sessionOperations(core), ...accountOperations(core, config), ...auditOperations(core)];
}
