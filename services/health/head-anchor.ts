/** The head anchor lives in the integrity module: persistence/integrity/head-anchor.ts. */
export {
  type HeadAnchor,
  headAnchorPathFor,
  isHeadHash,
  readHeadAnchor,
  writeHeadAnchor,
} from '../../persistence/integrity/head-anchor.js';
