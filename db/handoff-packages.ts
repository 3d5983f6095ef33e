import type { Db } from './sql';

/** What went to legal or the agency (handoff_packages): one document per invoice and recipient, stored once. */

export type HandoffTarget = 'legal' | 'agency';

export interface StoredHandoffPackage {
  package: unknown;
  created_at: Date;
}

interface PackageRef {
  tenantId: string;
  invoiceNumber: string;
  handedTo: HandoffTarget;
}

export async function findHandoffPackage(db: Db, ref: PackageRef): Promise<StoredHandoffPackage | undefined> {
  const [row] = await db<StoredHandoffPackage[]>`
    select package, created_at from handoff_packages
    where tenant_id = ${ref.tenantId} and invoice_number = ${ref.invoiceNumber} and handed_to = ${ref.handedTo}`;
  return row;
}

/** Stores the document unless one is stored already: then undefined, and the stored one is the package. */
export async function insertHandoffPackageOnce(db: Db, ref: PackageRef, document: unknown): Promise<StoredHandoffPackage | undefined> {
  const [row] = await db<StoredHandoffPackage[]>`
    insert into handoff_packages (tenant_id, invoice_number, handed_to, package)
    values (${ref.tenantId}, ${ref.invoiceNumber}, ${ref.handedTo}, ${db.json(document as never)})
    on conflict (tenant_id, invoice_number, handed_to) do nothing
    returning package, created_at`;
  return row;
}
