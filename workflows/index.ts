export { invoiceDunning } from './invoice-dunning';
