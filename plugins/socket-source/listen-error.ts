/** Why the socket could not listen, in one sentence that says what to change. */
export function listenError(protocol: 'tcp' | 'udp', host: string, port: number, err: Error): Error {
  const code = (err as NodeJS.ErrnoException).code
  const why =
    code === 'EADDRINUSE' ? 'the port is in use by another process; pick another `port`'
    : code === 'EACCES' ? 'permission denied (ports below 1024 need privileges); pick a `port` above 1023'
    : code === 'EADDRNOTAVAIL' ? `${host} is not an address of this machine; check \`host\``
    : err.message
  return new Error(`cannot listen on ${protocol} ${host}:${port}: ${why}`, { cause: err })
}

/** `address:port`, with IPv6 addresses in brackets. */
export function remoteOf(address: string | undefined, port: number | undefined): string {
  if (address === undefined) return 'unknown'
  return address.includes(':') ? `[${address}]:${port ?? 0}` : `${address}:${port ?? 0}`
}
