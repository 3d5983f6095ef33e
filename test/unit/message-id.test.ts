import { describe, expect, it } from 'vitest';
import { messageIdFor } from '../../activities/mail';

// Expected values are the first 32 hex digits of SHA-256 of the key, computed independently with
//   printf %s 'invoice-dunning:acme:INV-2025-0042:step:reminder-1' | sha256sum
// They are stored in outbound_messages and seen by mail systems: they must never change silently.
const KEY_1 = 'invoice-dunning:acme:INV-2025-0042:step:reminder-1';
const KEY_2 = 'invoice-dunning:acme:INV-2025-0042:step:reminder-2';

/** RFC 5322 msg-id with dot-atom-text on both sides of the @ (no folding white space, no obsolete forms). */
const ATEXT = "[A-Za-z0-9!#$%&'*+\\-/=?^_`{|}~]+";
const MSG_ID = new RegExp(`^<${ATEXT}(?:\\.${ATEXT})*@${ATEXT}(?:\\.${ATEXT})*>$`);

describe('messageIdFor', () => {
  it('is pinned for known keys', () => {
    expect(messageIdFor(KEY_1)).toBe('<142046fb8013e4ec0c859f6d4a73dc6b@dunning-orchestrator>');
    expect(messageIdFor(KEY_2)).toBe('<b45ca5e42483302cdd6337a964b54812@dunning-orchestrator>');
    expect(messageIdFor('')).toBe('<e3b0c44298fc1c149afbf4c8996fb924@dunning-orchestrator>');
  });

  it('is deterministic', () => {
    expect(messageIdFor(KEY_1)).toBe(messageIdFor(KEY_1));
  });

  it('is distinct per key, including near-identical keys', () => {
    const keys = Array.from({ length: 2000 }, (_, i) => `invoice-dunning:acme:INV-${i}:step:reminder-${i % 3}`);
    keys.push(KEY_1, `${KEY_1} `, KEY_1.toUpperCase(), `${KEY_1}\n`);
    expect(new Set(keys.map(messageIdFor)).size).toBe(keys.length);
  });

  it('is RFC 5322 shaped <id-left@id-right>, whatever the key contains', () => {
    for (const key of [KEY_1, '', 'a b', 'x\r\nBcc: victim@example.com', '<>@"', 'Müller/€', 'x'.repeat(10_000)]) {
      const id = messageIdFor(key);
      expect(id).toMatch(MSG_ID);
      expect(id).toMatch(/^<[0-9a-f]{32}@dunning-orchestrator>$/);
    }
  });
});
