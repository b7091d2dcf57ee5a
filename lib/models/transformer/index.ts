/**
 * Transformer encoders (BERT, XLM-R, gte "new", jina-embeddings-v3): read/write Hugging Face folders
 * (config.json + weights in any hub form), forward and backward on ONNX Runtime, hub-layout export.
 * See README.md in this folder.
 */
export { ENCODER_MODEL_TYPES, maxTextPositions, parseEncoderConfig, positionIds, ropeInvFreq, type EncoderConfig, type EncoderLayout, type EncoderModelType, type LoraConfig, type RopeConfig } from './config.js';
export { RETRIEVAL_TASKS, TransformerEncoder, type EmbeddingGrads, type EncoderGrads, type EncoderOptions, type EncoderTokens } from './encoder.js';
export { embeddingNames, isTaskParam, loraLayerParamNames, rotaryLayerParamNames, type EmbeddingNames } from './families.js';
export { isEncoderFolder, saveEncoderFolder, writeEncoderFolder } from './folder.js';
export { buildExportGraph, buildTrainGraph, ENCODER_POOLINGS, graphParamNames, type DenseSpec, type EncoderPooling } from './graph.js';
export { resolveEncoderFolder, type EncoderSourceOptions } from './hub.js';
export { encoderFromTable, JINA_V3_TASKS, randomEncoderConfigJson, randomEncoderWeights, type RandomEncoderSpec } from './random.js';
export { encodeSafetensors, readSafetensors, writeSafetensors, type SafeTensor, type SafeTensorsFile } from './safetensors.js';
export { findCheckpoint, isWeightFile, readCheckpoint, type CheckpointFiles } from '../../nn/checkpoint.js';
export { readPytorchBin } from '../../nn/pytorch-bin.js';
export { checkEncoderFolder, hasPooler, param, paramShapes, readEncoderWeights, type EncoderWeights } from './weights.js';
