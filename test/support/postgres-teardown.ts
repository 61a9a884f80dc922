import type { LocalCluster } from './postgres';

/** Removes the cluster the global setup started (nothing when DUALGATE_TEST_POSTGRES_URL was given). */
export default function teardown(): void {
  const holder = globalThis as { dualgateTestCluster?: LocalCluster };
  holder.dualgateTestCluster?.remove();
  delete holder.dualgateTestCluster;
  delete process.env.DUALGATE_TEST_POSTGRES_URL;
  delete process.env.DUALGATE_TEST_POSTGRES_OWN;
}
