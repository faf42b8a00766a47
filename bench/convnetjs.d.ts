// The parts of ConvNetJS 0.3.0 (which ships no types) that bench/peers/convnetjs.ts uses.
declare module 'convnetjs' {
  export class Vol {
    constructor(sx: number, sy: number, depth: number, c?: number);
    sx: number;
    sy: number;
    depth: number;
    w: Float64Array;
    dw: Float64Array;
  }
  export interface LayerDef {
    type: string;
    [option: string]: number | string;
  }
  export interface Layer {
    forward(v: Vol, isTraining: boolean): Vol;
    backward(): void;
    out_act: Vol;
  }
  export class Net {
    layers: Layer[];
    makeLayers(defs: LayerDef[]): void;
    forward(v: Vol, isTraining?: boolean): Vol;
  }
  export class SGDTrainer {
    constructor(net: Net, options: Record<string, number | string>);
    train(x: Vol, y: number): unknown;
  }
}
