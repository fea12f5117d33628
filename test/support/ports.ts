/** Loopback ports for servers a test starts itself (a child process, a Redis Cluster node). */
import net from "node:net";

/** A TCP port on 127.0.0.1 that was free a moment ago (the OS picked it; it is closed again). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer().once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}
