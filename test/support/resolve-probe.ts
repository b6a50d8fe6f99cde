// A static program that resolves a name with the C library's getaddrinfo (so through the image's /etc/hosts and
// nsswitch defaults) and prints `NAME ADDRESS`: what a RUN command resolves, without the image needing one.
// (Debian's busybox-static crashes in getaddrinfo: it cannot load glibc's NSS modules.)
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

const SOURCE = `#include <netdb.h>
#include <stdio.h>
#include <arpa/inet.h>
#include <sys/socket.h>
int main(int argc, char **argv) {
  struct addrinfo hints = {0}, *res;
  hints.ai_socktype = SOCK_STREAM;
  for (int i = 1; i < argc; i++) {
    int rc = getaddrinfo(argv[i], NULL, &hints, &res);
    if (rc != 0) { printf("%s: %s\\n", argv[i], gai_strerror(rc)); continue; }
    char buf[64];
    void *addr = res->ai_family == AF_INET ? (void *)&((struct sockaddr_in *)res->ai_addr)->sin_addr : (void *)&((struct sockaddr_in6 *)res->ai_addr)->sin6_addr;
    printf("%s %s\\n", argv[i], inet_ntop(res->ai_family, addr, buf, sizeof buf));
    freeaddrinfo(res);
  }
  return 0;
}
`;

/** Compiles the resolver as `<dir>/<name>` (gcc -static). */
export async function compileResolver(dir: string, name = 'resolve'): Promise<string> {
  const source = join(dir, `${name}.c`);
  const out = join(dir, name);
  await writeFile(source, SOURCE);
  try {
    await execFileAsync('gcc', ['-static', '-O2', '-o', out, source]);
  } catch (error) {
    const e = error as NodeJS.ErrnoException & { stderr?: string };
    throw new Error(`the resolver probe is a static C program: install gcc and libc6-dev (apt-get install -y gcc libc6-dev): ${e.stderr?.trim() || e.message}`);
  }
  return out;
}
