import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-wasm';
await tf.setBackend('wasm');
const [n,K,D,S] = process.argv.slice(2).map(Number);
const F = D*D+D+1, nb = n/S;
const phi = tf.randomNormal([n,F],0,1,'float32',1);
const W = tf.softmax(tf.randomNormal([n,K],0,1,'float32',5));
function time(name, f){ for(let i=0;i<2;i++) tf.tidy(()=>{f().dataSync();}); const t=performance.now(); for(let i=0;i<5;i++) tf.tidy(()=>{f().dataSync();}); console.log(name.padEnd(30), ((performance.now()-t)/5).toFixed(2),'ms'); }
time('2D', ()=>tf.matMul(tf.transpose(W),phi));
time('transpose3', ()=>tf.transpose(tf.reshape(W,[nb,S,K]),[0,2,1]));
time('batched', ()=>tf.matMul(tf.transpose(tf.reshape(W,[nb,S,K]),[0,2,1]), tf.reshape(phi,[nb,S,F])));
time('batched transA', ()=>tf.matMul(tf.reshape(W,[nb,S,K]), tf.reshape(phi,[nb,S,F]), true, false));
time('loop slices', ()=>{ const wt = tf.transpose(W); const outs=[]; for(let b=0;b<nb;b++) outs.push(tf.matMul(tf.slice(wt,[0,b*S],[K,S]), tf.slice(phi,[b*S,0],[S,F]))); return tf.stack(outs);});
// block-diagonal trick: Wbig [nb*K, n] sparse? skip
// phi^T W  batched: [nb, F, S] x [nb, S, K]
time('batched phiT', ()=>tf.matMul(tf.transpose(tf.reshape(phi,[nb,S,F]),[0,2,1]), tf.reshape(W,[nb,S,K])));
