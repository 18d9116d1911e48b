// Runs INSIDE the bubblewrap sandbox (plain JavaScript: only the sandbox's own Node runs it).
// The sandbox's network namespace has only a loopback interface. This bridge listens on the
// sandbox's 127.0.0.1 and relays each connection to a Unix socket of the control plane that is
// bound into the sandbox (the model gateway, the egress proxy), then runs the command and exits
// with its status. Usage:
//   node loopback-bridge.mjs <port> <socket> [<port> <socket> …] -- <program> [args…]
import { spawn } from "node:child_process";
import net from "node:net";
import { constants } from "node:os";
import process from "node:process";

const args = process.argv.slice(2);
const separator = args.indexOf("--");
const command = separator < 0 ? [] : args.slice(separator + 1);
const pairs = separator < 0 ? [] : args.slice(0, separator);
if (command.length === 0 || pairs.length % 2 !== 0) {
  process.stderr.write("usage: loopback-bridge.mjs <port> <socket> [...] -- <program> [args...]\n");
  process.exit(2);
}

function relay(socketPath) {
  return (client) => {
    const upstream = net.connect(socketPath);
    client.pipe(upstream);
    upstream.pipe(client);
    client.on("error", () => upstream.destroy());
    upstream.on("error", () => client.destroy());
  };
}

const servers = [];
for (let i = 0; i < pairs.length; i += 2) {
  const server = net.createServer(relay(pairs[i + 1]));
  servers.push(new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(Number(pairs[i]), "127.0.0.1", () => resolve(server));
  }));
}
await Promise.all(servers);

const [program, ...rest] = command;
const child = spawn(program, rest, { stdio: "inherit" });
for (const name of ["SIGTERM", "SIGINT", "SIGHUP"]) process.on(name, () => child.kill(name));
child.on("error", (error) => {
  const missing = error.code === "ENOENT";
  process.stderr.write(missing ? `${program}: command not found\n` : `${program}: ${error.message}\n`);
  process.exit(missing ? 127 : 126);
});
child.on("exit", (code, signal) => process.exit(code ?? 128 + (constants.signals[signal] ?? 0)));
