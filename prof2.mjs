import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-wasm';
await tf.setBackend('wasm');
const [n,K,D] = process.argv.slice(2).map(Number);
const P = D*(D+1)/2, F = P+D+1;
const ii=[],jj=[]; for(let i=0;i<D;i++)for(let j=i;j<D;j++){ii.push(i);jj.push(j);}
const I=tf.tensor1d(ii,'int32'), J=tf.tensor1d(jj,'int32');
const x = tf.randomNormal([n,D],0,1,'float32',1);
const phi = tf.randomNormal([n,F],0,1,'float32',1);
const Q = tf.randomNormal([F,K],0,1,'float32',2);
const W = tf.softmax(tf.randomNormal([n,K],0,1,'float32',5));
function time(name, f){ for(let i=0;i<2;i++) tf.tidy(()=>{f().dataSync();}); const t=performance.now(); for(let i=0;i<5;i++) tf.tidy(()=>{f().dataSync();}); console.log(name.padEnd(30), ((performance.now()-t)/5).toFixed(2),'ms'); }
time('gather mul', ()=>tf.mul(tf.gather(x,I,1), tf.gather(x,J,1)));
time('gather only', ()=>tf.gather(x,I,1));
time('outer reshape', ()=>tf.reshape(tf.mul(tf.reshape(x,[n,D,1]), tf.reshape(x,[n,1,D])),[n,D*D]));
time('concat', ()=>tf.concat([phi, x], 1));
time('phi Q', ()=>tf.matMul(phi,Q));
time('W^T phi', ()=>tf.matMul(W,phi,true,false));
time('transpose W', ()=>tf.transpose(W));
time('Wt phi via transpose', ()=>tf.matMul(tf.transpose(W),phi));
time('phiT W via', ()=>tf.matMul(phi,W,true,false));
time('lse+exp', ()=>{const lj=tf.matMul(phi,Q); const m=tf.max(lj,1,true); const l=tf.add(tf.log(tf.sum(tf.exp(tf.sub(lj,m)),1,true)),m); return tf.exp(tf.sub(lj,l));});
time('onlyexp', ()=>tf.exp(W));
