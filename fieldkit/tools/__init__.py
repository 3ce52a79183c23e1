"""Tools for the people who run fieldkit: the benchmark, the doctor, the demo project and the start-up step the app runs before the home screen."""
