/** VIC Group1 1-26 hello-world: docker run of an image the VCH does not have yet pulls it (the create's 404) and prints its output. */
import { useDockerBed } from './docker-env';

const BOOT_MS = 300_000;

describe('1-26 hello-world', () => {
  const bed = useDockerBed({ sim: { runGuests: { maxRunning: 2 } }, vchName: 'vch-hello' });

  test(
    "GIVEN an image only in the registry WHEN docker run runs it THEN the CLI pulls it and prints the container VM's output",
    async () => {
      const r = await bed().docker(['run', bed().image], { timeoutMs: BOOT_MS });
      expect(r.code).toBe(0);
      expect(r.stderr).toMatch(new RegExp(`Unable to find image '${bed().image.replace(/[.]/g, '\\.')}' locally`));
      // The pull's progress goes to stderr; stdout is the container's alone.
      expect(r.stderr).toMatch(/Digest: sha256:[0-9a-f]{64}\n/);
      expect(r.stdout).toBe('hello from a container VM\n');
      const ps = await bed().docker(['ps', '-a', '--format', '{{.Image}} {{.Status}}']);
      expect(ps.stdout).toMatch(new RegExp(`^${bed().image.replace(/[.]/g, '\\.')} Exited \\(0\\) `));
    },
    BOOT_MS,
  );
});
