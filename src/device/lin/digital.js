// "embedded:io/digital" for the Moddable simulator on Linux, which has no GPIO: each pin is a
// file named after its number in config.pinsDirectory (default /tmp/simmail-pins/) holding "0"
// or "1". An input reads the file (a missing or empty file reads as the level its pull gives);
// an output writes it. So a test or a person drives an input with `echo 0 > /tmp/simmail-pins/32`
// and watches the LED in /tmp/simmail-pins/<led pin>.
//
// Only what the app uses is simulated: Input, InputPullUp, InputPullDown and Output modes,
// read(), write(), close() and Moddable's `initialValue`. Edge callbacks are refused (the app
// polls its inputs). Plain JavaScript: the manifest maps this file for `lin` only, and the
// esbuild bundle (which is TypeScript) keeps importing "embedded:io/digital" on every platform.

import { Directory, File } from "file";
import config from "mc/config";

const directory = config.pinsDirectory ?? "/tmp/simmail-pins/";

const INPUT = 0;
const INPUT_PULL_UP = 1;
const INPUT_PULL_DOWN = 2;
const OUTPUT = 8;

class Digital {
	#path;
	#mode;

	constructor(options) {
		const pin = options?.pin;
		if (!Number.isInteger(pin) || pin < 0)
			throw new RangeError(`simulated digital: pin ${pin} is not a pin number`);
		if (options.onReadable !== undefined || options.edge !== undefined)
			throw new Error(`simulated digital (pin ${pin}): edge callbacks are not simulated; poll read()`);
		const mode = options.mode;
		if (mode !== INPUT && mode !== INPUT_PULL_UP && mode !== INPUT_PULL_DOWN && mode !== OUTPUT)
			throw new RangeError(`simulated digital (pin ${pin}): mode ${mode} is not simulated`);
		if (!directory.startsWith("/") || !directory.endsWith("/"))
			throw new Error(`simulated digital: config.pinsDirectory "${directory}" must be absolute and end in /`);
		Directory.create(directory.slice(0, -1));
		this.#path = directory + pin;
		this.#mode = mode;
		if (mode === OUTPUT)
			this.write(options.initialValue ?? 0);
	}

	read() {
		const idle = this.#mode === INPUT_PULL_UP ? 1 : 0;
		if (!File.exists(this.#path))
			return idle;
		const file = new File(this.#path);
		try {
			if (file.length === 0)
				return idle;
			return file.read(String, 1) === "1" ? 1 : 0;
		}
		finally {
			file.close();
		}
	}

	write(value) {
		if (this.#mode !== OUTPUT)
			throw new Error(`simulated digital: ${this.#path} is an input`);
		File.delete(this.#path);
		const file = new File(this.#path, true);
		try {
			file.write(Number(value) ? "1\n" : "0\n");
		}
		finally {
			file.close();
		}
	}

	close() {
	}
}

Digital.Input = INPUT;
Digital.InputPullUp = INPUT_PULL_UP;
Digital.InputPullDown = INPUT_PULL_DOWN;
Digital.Output = OUTPUT;

export default Digital;
