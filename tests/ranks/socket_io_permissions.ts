/**
 * Run without every permission: native socket I/O cannot list /proc/self/fd,
 * so `auto` must fall back to Deno's socket ops and `native` must refuse.
 * Prints the socket I/O taken under `auto`, then the refusal.
 *
 * @module
 */

import { connectLocalGroup } from "../../transports/open.ts";

const group = await connectLocalGroup("tcp", 2);
console.log(group.transports.map((t) => t.socketIo).join(","));
await group.close();
try {
  const refused = await connectLocalGroup("tcp", 2, { socketIo: "native" });
  await refused.close();
  console.log("native was not refused");
} catch (e) {
  console.log(`${(e as Error).name}: ${(e as Error).message}`);
}
