/**
 * Who at a customer may be written to: contacts that are not do-not-contact and have an email,
 * primary first as given, each mailbox once; a mailbox shared with a do-not-contact person is not
 * written to either. One rule for the step conditions (getCustomerFacts) and the mail activity.
 */
export interface ContactOnRecord {
  name: string;
  email: string | null;
  doNotContact: boolean;
}

export function reachableByEmail<C extends ContactOnRecord>(contacts: readonly C[]): (C & { address: string })[] {
  const address = (email: string | null) => email?.trim() ?? '';
  const blocked = new Set(contacts.filter((c) => c.doNotContact).map((c) => address(c.email).toLowerCase()));
  const seen = new Set<string>();
  const reachable: (C & { address: string })[] = [];
  for (const c of contacts) {
    const key = address(c.email).toLowerCase();
    if (c.doNotContact || key === '' || blocked.has(key) || seen.has(key)) continue;
    seen.add(key);
    reachable.push({ ...c, address: address(c.email) });
  }
  return reachable;
}
