"""Text messages (CONTRACT.md "Text messages"): the outbox, its backends and its uses.

- `outbox`: the message table as a queue; queued in the same transaction as their cause,
  claimed and delivered by the `messages send` worker (`send_due`), with retries.
- `backends`: where messages go (SMS_BACKEND): `outbox` (staff send by hand),
  `file:///ABS.jsonl`, `aliyun`, `tencent` (the providers' SDKs, optional extras).
- `links`: ballot links by message (`ballots send`) and the reminder.
- `codes`: one-time codes for `--verify sms`.

Phones are personal information: shown masked (`mask`) everywhere but the sending
itself, never written to the audit log or logs, purged with the register.
"""
