/**
 * Loads `count` items (100-byte values, 10-to-12-byte keys) with pipelined `noreply` sets, then
 * waits for a `version` reply so every set has been processed.
 */
export const VALUE_BYTES = 100;

export function benchKey(i: number): string {
  return "k" + String(i).padStart(9, "0") + "xy".slice(0, i % 3);
}

export async function loadItems(port: number, count: number): Promise<number> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  const enc = new TextEncoder();
  const value = "v".repeat(VALUE_BYTES);
  const started = performance.now();
  const batch = 2000;
  for (let i = 0; i < count; i += batch) {
    let text = "";
    for (let j = i; j < Math.min(count, i + batch); j++) {
      text += `set ${benchKey(j)} 0 0 ${VALUE_BYTES} noreply\r\n${value}\r\n`;
    }
    const bytes = enc.encode(text);
    let off = 0;
    while (off < bytes.length) off += await conn.write(bytes.subarray(off));
  }
  await conn.write(enc.encode("version\r\n"));
  const buf = new Uint8Array(4096);
  let got = "";
  while (!got.includes("\r\n")) {
    const n = await conn.read(buf);
    if (n === null) break;
    got += new TextDecoder().decode(buf.subarray(0, n));
  }
  conn.close();
  if (!got.startsWith("VERSION")) throw new Error(`unexpected reply after load: ${got}`);
  return performance.now() - started;
}

/** Sets one item over the text protocol (for the HTTP read benchmark). */
export async function setOne(port: number, key: string, value: string): Promise<void> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  await conn.write(new TextEncoder().encode(`set ${key} 0 0 ${value.length}\r\n${value}\r\n`));
  const buf = new Uint8Array(64);
  await conn.read(buf);
  conn.close();
}
