from orderlink.cli import main

main()
