/**
 * A Git server on 127.0.0.1 for Flux's source-controller: Git's own smart-HTTP server
 * (`git http-backend`, a CGI program) behind Node's HTTP server, serving the bare
 * repositories under one directory. Nothing here implements the Git protocol.
 */
import { execFileSync, spawn } from "child_process";
import * as fs from "fs";
import * as http from "http";
import * as net from "net";
import * as path from "path";

export interface GitServer {
    /** `http://127.0.0.1:<port>/<name>.git` */
    url(repository: string): string;
    close(): Promise<void>;
}

const git = (cwd: string, ...args: string[]) => execFileSync("git", args, { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });

/** Creates `<root>/<name>.git` holding one commit on `main` with `files` (path -> content). */
export function createRepository(root: string, name: string, files: Record<string, string>) {
    const work = path.join(root, `${name}-work`);
    for (const [file, content] of Object.entries(files)) {
        fs.mkdirSync(path.dirname(path.join(work, file)), { recursive: true });
        fs.writeFileSync(path.join(work, file), content);
    }
    git(work, "init", "-q", "-b", "main");
    git(work, "add", "-A");
    git(work, "-c", "user.name=integration", "-c", "user.email=integration@example.invalid", "commit", "-q", "-m", "integration fixture");
    git(root, "clone", "-q", "--bare", work, `${name}.git`);
}

function httpBackend(root: string, request: http.IncomingMessage, response: http.ServerResponse) {
    const url = new URL(request.url ?? "/", "http://127.0.0.1");
    const child = spawn("git", ["http-backend"], {
        env: {
            PATH: process.env.PATH,
            GIT_PROJECT_ROOT: root,
            GIT_HTTP_EXPORT_ALL: "1",
            GATEWAY_INTERFACE: "CGI/1.1",
            REQUEST_METHOD: request.method ?? "GET",
            PATH_INFO: decodeURIComponent(url.pathname),
            QUERY_STRING: url.search.replace(/^\?/, ""),
            CONTENT_TYPE: request.headers["content-type"] ?? "",
            HTTP_CONTENT_ENCODING: request.headers["content-encoding"] ?? "",
            GIT_PROTOCOL: String(request.headers["git-protocol"] ?? ""),
            REMOTE_ADDR: request.socket.remoteAddress ?? "",
        },
        stdio: ["pipe", "pipe", "pipe"],
    });
    request.pipe(child.stdin);
    const chunks: Buffer[] = [];
    child.stdout.on("data", (c: Buffer) => chunks.push(c));
    child.on("close", () => {
        const out = Buffer.concat(chunks);
        const split = out.indexOf("\r\n\r\n") >= 0 ? out.indexOf("\r\n\r\n") : out.indexOf("\n\n");
        const separator = out.indexOf("\r\n\r\n") >= 0 ? 4 : 2;
        if (split < 0) {
            response.writeHead(500).end("git http-backend wrote no headers");
            return;
        }
        let status = 200;
        const headers: Record<string, string> = {};
        for (const line of out.subarray(0, split).toString("latin1").split(/\r?\n/)) {
            const colon = line.indexOf(":");
            const [key, value] = [line.slice(0, colon).trim(), line.slice(colon + 1).trim()];
            if (key.toLowerCase() === "status") status = parseInt(value, 10);
            else headers[key] = value;
        }
        response.writeHead(status, headers).end(out.subarray(split + separator));
    });
}

export async function startGitServer(root: string): Promise<GitServer> {
    const server = http.createServer((request, response) => httpBackend(root, request, response));
    await new Promise<void>((resolve, reject) => server.once("error", reject).listen(0, "127.0.0.1", resolve));
    const port = (server.address() as net.AddressInfo).port;
    return {
        url: (repository) => `http://127.0.0.1:${port}/${repository}.git`,
        close: () => new Promise<void>((resolve) => server.close(() => resolve())),
    };
}
