/** Header names: record metadata travels in NATS headers, never inside the record (DESIGN §2). */
export const H = {
  msgId: 'Nats-Msg-Id',
  originSeq: 'Trib-Origin-Seq',
  eventTime: 'Trib-Event-Time',
  epoch: 'Trib-Epoch',
  // DLQ entries
  stage: 'Trib-Stage',
  plugin: 'Trib-Plugin',
  reason: 'Trib-Reason',
  errorCode: 'Trib-Error-Code',
  tries: 'Trib-Tries',
  originSubject: 'Trib-Origin-Subject',
  time: 'Trib-Time',
  // A redriven dead record: the DLQ sequence it came from (replay skips such copies of records it reprocesses)
  redriveOf: 'Trib-Redrive-Of',
} as const

/** Header values are one line of ASCII-safe text; reasons can carry anything. */
export function headerValue(s: string, max = 1024): string {
  const one = s.replace(/[\r\n]+/g, ' ').trim()
  return one.length > max ? `${one.slice(0, max - 1)}…` : one
}
