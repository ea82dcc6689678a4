/**
 * docker system df against the endpoint, through the docker CLI: the VCH's images with their sizes
 * and how many are in use, its containers, and its volumes with how many containers mount them.
 * What a container's own disk and a volume's files take is not read: a container shows 0B, a volume
 * its capacity; `ps -s` and `inspect --size` give a container's image size as its root filesystem's.
 */
import { useDockerBed } from './docker-env';

/** A size as the docker CLI prints it: decimal units, three significant digits (go-units' HumanSizeWithPrecision). */
function sizeText(bytes: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit += 1;
  }
  return `${Number(value.toPrecision(3))}${units[unit]}`;
}

describe('docker system df', () => {
  const bed = useDockerBed({ pull: true, vchName: 'vch-df' });

  test('GIVEN an image, two containers (one of them with a volume) and an unused volume WHEN docker system df runs THEN it counts each, and -v lists who uses what', async () => {
    await bed().dockerOk(['volume', 'create', 'df-used']);
    await bed().dockerOk(['volume', 'create', '--opt', 'Capacity=64', 'df-spare']);
    await bed().dockerOk(['create', '--name', 'df-a', '-v', 'df-used:/data', bed().image, 'sleep', '600']);
    await bed().dockerOk(['create', '--name', 'df-b', bed().image, 'sleep', '600']);
    const rows = (await bed().dockerOk(['system', 'df', '--format', '{{.Type}}|{{.TotalCount}}|{{.Active}}|{{.Reclaimable}}'])).split('\n');
    // The image is in use: none of it can be reclaimed.
    expect(rows).toEqual(['Images|1|1|0B (0%)', 'Containers|2|0|0B', 'Local Volumes|2|1|67.11MB (5%)', 'Build Cache|0|0|0B']);
    const imageSize = Number(await bed().dockerOk(['image', 'inspect', '-f', '{{.Size}}', bed().image]));
    expect(imageSize).toBeGreaterThan(0);

    const verbose = await bed().dockerOk(['system', 'df', '-v']);
    // Each volume with the containers that mount it (LINKS) and its capacity.
    expect(verbose).toMatch(/df-used\s+1\s+\d+(\.\d+)?[MG]B\n/);
    expect(verbose).toMatch(/df-spare\s+0\s+67\.11MB\n/);
    expect(verbose).toMatch(/df-a\s/);
    expect(verbose).toMatch(/df-b\s/);

    // ps -s and inspect --size: the image's disk is the root filesystem's size, the container's own writes 0.
    expect((await bed().dockerOk(['ps', '-as', '--format', '{{.Names}} {{.Size}}'])).split('\n').sort()).toEqual(
      ['df-a', 'df-b'].map((name) => `${name} 0B (virtual ${sizeText(imageSize)})`),
    );
    expect(await bed().dockerOk(['inspect', '--size', '-f', '{{.SizeRw}} {{.SizeRootFs}}', 'df-a'])).toBe(`0 ${imageSize}`);
    // Without --size, as dockerd: neither.
    expect(await bed().dockerOk(['inspect', '-f', '{{.SizeRw}} {{.SizeRootFs}}', 'df-a'])).toBe('<nil> <nil>');
    await bed().dockerOk(['rm', 'df-a', 'df-b']);
    await bed().dockerOk(['volume', 'rm', 'df-used', 'df-spare']);
  });
});
