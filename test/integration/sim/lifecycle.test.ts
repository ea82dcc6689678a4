import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { X509Certificate } from 'node:crypto';
import { startSimulator } from '../../../src/sim/simulator';
import { SoapSession, elementText } from './soap';

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('vcsim launcher lifecycle', () => {
  test('GIVEN default options WHEN started THEN it serves https with a pinned cert and stop() leaves no process or datastore dir', async () => {
    const stateDir = mkdtempSync(join(tmpdir(), 'vic-sim-test-'));
    try {
      const sim = await startSimulator({ stateDir });
      let datastoreDirs: string[] = [];
      try {
        // THEN the ready line gave an https URL without credentials and a vSphere-style thumbprint
        expect(sim.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+\/sdk$/);
        expect(sim.thumbprint).toMatch(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
        expect(new X509Certificate(sim.certPem!).fingerprint256).toBe(sim.thumbprint);
        expect(pidAlive(sim.pid)).toBe(true);

        // THEN a SOAP login works over TLS that trusts only that certificate
        const soap = new SoapSession(sim);
        await soap.login();
        const time = await soap.currentTime();
        expect(time.status).toBe(200);
        expect(elementText(time.body, 'returnval')).toMatch(/^\d{4}-\d\d-\d\d/);
        await soap.close();

        const info = await sim.control.info();
        datastoreDirs = Object.values(info.datastores);
        expect(datastoreDirs.length).toBeGreaterThan(0);
        for (const dir of datastoreDirs) {
          expect(dir.startsWith(stateDir)).toBe(true);
          expect(existsSync(dir)).toBe(true);
        }
      } finally {
        await sim.stop();
      }
      // THEN the launcher is gone and removed its own datastore dirs (stateDir is ours, so still here)
      expect(pidAlive(sim.pid)).toBe(false);
      for (const dir of datastoreDirs) expect(existsSync(dir)).toBe(false);
      expect(readdirSync(stateDir).filter((name) => name.startsWith('govcsim-'))).toEqual([]);
    } finally {
      rmSync(stateDir, { recursive: true, force: true });
    }
  });

  test('GIVEN tls: false WHEN started THEN it serves plain http without a thumbprint', async () => {
    const sim = await startSimulator({ tls: false });
    try {
      expect(sim.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/sdk$/);
      expect(sim.thumbprint).toBeUndefined();
      expect(sim.certPem).toBeUndefined();
      const soap = new SoapSession(sim);
      await soap.login();
      expect((await soap.currentTime()).status).toBe(200);
      await soap.close();
    } finally {
      await sim.stop();
    }
  });

  test('GIVEN a simulator WHEN stop() is called twice THEN both resolve and the process is gone', async () => {
    const sim = await startSimulator({ tls: false });
    await Promise.all([sim.stop(), sim.stop()]);
    await sim.stop();
    expect(pidAlive(sim.pid)).toBe(false);
  });

  test('GIVEN username and password WHEN logging in THEN only that exact pair is accepted', async () => {
    const sim = await startSimulator({ tls: false, username: 'alice', password: 's3cret' });
    try {
      const wrong = new SoapSession({ ...sim, password: 'nope' });
      await expect(wrong.login()).rejects.toThrow(/InvalidLogin/);
      await wrong.close();
      const right = new SoapSession(sim);
      await right.login();
      expect((await right.currentTime()).status).toBe(200);
      await right.close();
    } finally {
      await sim.stop();
    }
  });

  test('GIVEN an invalid launcher flag value WHEN starting THEN it rejects with the launcher stderr', async () => {
    await expect(startSimulator({ tls: false, listen: 'not-an-address' })).rejects.toThrow(/exited before it was ready[\s\S]*not-an-address/);
  });
});
