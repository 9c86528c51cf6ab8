export * from './server';
export { SimClock } from './clock';
export { Catalogue, registryUriOf, type KbVulnerability, type ImageVuln, type RegisterImageInput, type SimImage, type SimRegistry } from './catalogue';
export { parseQql, evaluateQql, QqlError } from './qql';
