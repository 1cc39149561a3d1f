// An AudioWorklet that hands every block of microphone samples (mono, float) to the page.
class Recorder extends AudioWorkletProcessor {
  process(inputs) {
    const channel = inputs[0] && inputs[0][0];
    if (channel) this.port.postMessage(channel.slice(0));
    return true;
  }
}

registerProcessor("recorder", Recorder);
