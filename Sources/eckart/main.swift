import ArgumentParser
EckartCommand.main()
