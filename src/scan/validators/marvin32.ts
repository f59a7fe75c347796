// Marvin32, the keyed hash Microsoft uses for CASK key checksums (token-formats.md §1.2).

function rotl(x: number, n: number): number {
  return ((x << n) | (x >>> (32 - n))) >>> 0;
}

/** Returns the 64-bit state as [p0, p1]; the 32-bit Marvin checksum is `p0 ^ p1`. */
export function marvinState(data: Uint8Array, seed: bigint): [number, number] {
  let p0 = Number(seed & 0xffffffffn) >>> 0;
  let p1 = Number((seed >> 32n) & 0xffffffffn) >>> 0;
  const block = () => {
    p1 = (p1 ^ p0) >>> 0;
    p0 = rotl(p0, 20);
    p0 = (p0 + p1) >>> 0;
    p1 = rotl(p1, 9);
    p1 = (p1 ^ p0) >>> 0;
    p0 = rotl(p0, 27);
    p0 = (p0 + p1) >>> 0;
    p1 = rotl(p1, 19);
  };
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const whole = data.length & ~3;
  for (let i = 0; i < whole; i += 4) {
    p0 = (p0 + view.getUint32(i, true)) >>> 0;
    block();
  }
  let last = 0x80;
  for (let i = data.length - 1; i >= whole; i--) last = ((last << 8) | (data[i] as number)) >>> 0;
  p0 = (p0 + last) >>> 0;
  block();
  block();
  return [p0, p1];
}

export function marvin32(data: Uint8Array, seed: bigint): number {
  const [p0, p1] = marvinState(data, seed);
  return (p0 ^ p1) >>> 0;
}
