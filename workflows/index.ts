export { invoiceDunning } from './invoice-dunning';
export { customerContact } from './customer-contact';
