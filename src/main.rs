fn main() {
    let result = ecsflow::commands::run(std::env::args_os());
    std::process::exit(ecsflow::commands::report(result));
}
