import { postgresBinDir, startLocalCluster, type LocalCluster } from './postgres';

/**
 * Global setup of the `postgres` jest project: DUALGATE_TEST_POSTGRES_URL as given, else a throwaway cluster
 * whose URL goes into the environment the test workers inherit.
 */
export default async function setup(): Promise<void> {
  if (process.env.DUALGATE_TEST_POSTGRES_URL) return;
  const binDir = postgresBinDir();
  if (!binDir) throw new Error('PostgreSQL is not installed (pg_config --bindir has no initdb)');
  const cluster = await startLocalCluster(binDir);
  (globalThis as { dualgateTestCluster?: LocalCluster }).dualgateTestCluster = cluster;
  process.env.DUALGATE_TEST_POSTGRES_URL = cluster.url;
  // Tests that stop and start the server itself need its data directory and the programs.
  process.env.DUALGATE_TEST_POSTGRES_OWN = '1';
}
