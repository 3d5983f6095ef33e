export { invoiceDunning } from './invoice-dunning';
export { customerContact } from './customer-contact';
export { disputeWorkflow } from './dispute';
export { approvalWorkflow } from './approval';
export { erpSync } from './erp-sync';
export { arPack } from './ar-pack';
