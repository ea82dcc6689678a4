/**
 * A throwaway PostgreSQL server for a test file: a fresh cluster in a temp directory on a free port
 * of 127.0.0.1, password authentication (scram-sha-256) for one user, stopped and deleted in afterAll.
 * PostgreSQL refuses to run as root, so under root the cluster belongs to the `postgres` user (made
 * by Debian's package) and its programs run through `runuser`.
 */
import { execFile, execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const INSTALL_HINT = 'run "npm run setup" (installs Debian\'s postgresql) or "apt-get install -y postgresql"';

export interface RunningPostgres {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly password: string;
  /** postgres://user:password@127.0.0.1:port/<database>?sslmode=disable */
  url(database: string): string;
  createDatabase(name: string): Promise<void>;
  /** Runs one SQL statement in `database` and returns the rows, tab-separated. */
  query(database: string, sql: string): Promise<string[]>;
  stop(): Promise<void>;
}

/** The directory of initdb and pg_ctl: Debian keeps them out of PATH, under /usr/lib/postgresql/<major>/bin. */
function postgresBinDir(): string {
  const root = '/usr/lib/postgresql';
  const majors = existsSync(root) ? readdirSync(root).filter((v) => existsSync(join(root, v, 'bin', 'initdb'))) : [];
  if (majors.length === 0) throw new Error(`PostgreSQL server programs (initdb, pg_ctl) not found under ${root}: ${INSTALL_HINT}`);
  return join(root, majors.sort((a, b) => Number(b) - Number(a))[0], 'bin');
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export async function startPostgres(): Promise<RunningPostgres> {
  const bin = postgresBinDir();
  const asRoot = process.getuid?.() === 0;
  let owner: string | undefined;
  if (asRoot) {
    try {
      execFileSync('id', ['-u', 'postgres'], { stdio: 'ignore' });
      owner = 'postgres';
    } catch {
      throw new Error(`running as root, and there is no "postgres" user to own the test cluster (PostgreSQL refuses to run as root): ${INSTALL_HINT}`);
    }
  }
  // Runs a server program as the cluster's owner.
  const asOwner = (program: string, args: string[], env: NodeJS.ProcessEnv = {}) => {
    const file = join(bin, program);
    const [cmd, argv] = owner ? ['runuser', ['-u', owner, '--', 'env', ...Object.entries(env).map(([k, v]) => `${k}=${v}`), file, ...args]] : [file, args];
    return run(cmd as string, argv as string[], { env: { ...process.env, ...env }, maxBuffer: 8 << 20 }).catch(
      (err: { stderr?: string; stdout?: string; message: string }) => {
        throw new Error(`${program} ${args.join(' ')} failed: ${err.message}\n${err.stdout ?? ''}${err.stderr ?? ''}`);
      },
    );
  };

  const dir = mkdtempSync(join(tmpdir(), 'vic-postgres-'));
  const user = 'vic_team';
  const password = `pg-${Math.random().toString(36).slice(2)}-S3cret`;
  writeFileSync(join(dir, 'pwfile'), `${password}\n`);
  if (owner) execFileSync('chown', ['-R', owner, dir]);
  chmodSync(dir, 0o700);
  const data = join(dir, 'data');
  await asOwner('initdb', ['-D', data, '-U', user, `--pwfile=${join(dir, 'pwfile')}`, '-A', 'scram-sha-256', '-E', 'UTF8', '--no-instructions'], {
    LC_ALL: 'C',
  });
  const port = await freePort();
  // fsync off: a test cluster that dies with the test needs no durability.
  await asOwner('pg_ctl', [
    '-D',
    data,
    '-l',
    join(dir, 'server.log'),
    '-w',
    '-t',
    '60',
    '-o',
    `-c listen_addresses=127.0.0.1 -p ${port} -k ${dir} -c fsync=off`,
    'start',
  ]);

  const pgEnv = { PGPASSWORD: password, PGCONNECT_TIMEOUT: '10' };
  const psql = async (database: string, sql: string): Promise<string[]> => {
    const { stdout } = await run(
      join(bin, 'psql'),
      ['-h', '127.0.0.1', '-p', String(port), '-U', user, '-d', database, '-v', 'ON_ERROR_STOP=1', '-AtF', '\t', '-c', sql],
      {
        env: { ...process.env, ...pgEnv },
      },
    );
    return stdout.split('\n').filter((l) => l !== '');
  };
  let stopped = false;
  return {
    host: '127.0.0.1',
    port,
    user,
    password,
    url: (database) => `postgres://${user}:${encodeURIComponent(password)}@127.0.0.1:${port}/${database}?sslmode=disable`,
    createDatabase: async (name) => {
      await psql('postgres', `CREATE DATABASE "${name}"`);
    },
    query: psql,
    stop: async () => {
      if (stopped) return;
      stopped = true;
      await asOwner('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']).catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A server for the calling test file: started in beforeAll, stopped in afterAll. */
export function usePostgres(): () => RunningPostgres {
  let pg: RunningPostgres | undefined;
  beforeAll(async () => {
    pg = await startPostgres();
  }, 90_000);
  afterAll(async () => {
    await pg?.stop();
  }, 30_000);
  return () => {
    if (!pg) throw new Error('usePostgres: the server is not running (use the getter inside a test, after beforeAll)');
    return pg;
  };
}
