// A server of the control plane listening on a Unix socket that is bound into sandboxes. The
// socket is made only for this process (a stale file of a crashed one is replaced; a live one or a
// file that is not a socket is not), is readable and writable by its owner only (the sandbox's
// user maps to the server's own), and does not keep the process alive on its own.
import { chmod, lstat, rm } from "node:fs/promises";
import { connect, type Server, type Socket } from "node:net";

export interface SocketServer {
  readonly socketPath: string;
  close(): Promise<void>;
}

/** Unix socket paths are limited to 107 bytes on Linux (sun_path). */
export const MAX_SOCKET_PATH_BYTES = 107;

export async function listenOnSocket(server: Server, socketPath: string): Promise<SocketServer> {
  if (Buffer.byteLength(socketPath) > MAX_SOCKET_PATH_BYTES) {
    throw new Error(`the socket path ${socketPath} is longer than ${MAX_SOCKET_PATH_BYTES} bytes; use a shorter TASKS_DATA_DIR`);
  }
  await removeStaleSocket(socketPath);
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(socketPath, () => {
      server.off("error", reject);
      resolve();
    });
  });
  await chmod(socketPath, 0o600);
  server.unref();
  const open = new Set<Socket>();
  server.on("connection", (socket) => {
    open.add(socket);
    socket.once("close", () => open.delete(socket));
  });
  return {
    socketPath,
    close: async () => {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const socket of open) socket.destroy();
      });
      await rm(socketPath, { force: true });
    },
  };
}

async function removeStaleSocket(socketPath: string): Promise<void> {
  const stat = await lstat(socketPath).catch((error: NodeJS.ErrnoException) => (error.code === "ENOENT" ? undefined : Promise.reject(error)));
  if (!stat) return;
  if (!stat.isSocket()) throw new Error(`${socketPath} exists and is not a socket: it is not replaced`);
  const live = await new Promise<boolean>((resolve) => {
    const probe = connect({ path: socketPath });
    probe.once("connect", () => {
      probe.destroy();
      resolve(true);
    });
    probe.once("error", () => resolve(false));
  });
  if (live) throw new Error(`another process is listening on ${socketPath}`);
  await rm(socketPath);
}
