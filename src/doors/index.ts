import type { Router } from 'express';
import type { Config } from '../config';
import type { Core } from '../core';

/** Every door's routes, in the order they are mounted. */
export function buildDoors(_config: Config, _core: Core): Router[] {
  return [];
}
