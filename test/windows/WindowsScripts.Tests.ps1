# The Windows suite: every PowerShell script the program renders, checked for Windows PowerShell
# 5.1 and run unmodified on a simulated Windows host (WindowsHost.psm1) as the SSM agent runs it.
# Each case is judged by the exit code, the products installed afterwards and what msiexec was
# asked. Run by `npm test` (test/run.ts renders the packages first); alone:
#   npx ts-node test/run.ts windows
BeforeDiscovery {
    $packages = Get-Content -LiteralPath (Join-Path $env:UPTYCS_WINDOWS_PACKAGES 'packages.json') -Raw | ConvertFrom-Json
    $scripts = foreach ($p in $packages) {
        foreach ($f in Get-ChildItem -LiteralPath (Join-Path $env:UPTYCS_WINDOWS_PACKAGES $p.folder) -Filter *.ps1) {
            @{ Package = $p.folder; Script = $f.Name; Path = $f.FullName }
        }
    }
}

BeforeAll {
    . (Join-Path $PSScriptRoot 'WindowsCases.ps1')
    Import-Module (Join-Path $PSScriptRoot 'WindowsPowerShell51.psm1') -Force
    $Timeout = 5
}

Describe 'Windows PowerShell 5.1' {
    It '<Package>/<Script> parses with no error and uses nothing 5.1 lacks' -ForEach $scripts {
        Get-WindowsPowerShell51Problem -Path $Path | Should -BeNullOrEmpty
    }

    It 'refuses ?? and a ternary planted in a rendered script, and a missing closing brace' {
        $text = Get-Content -LiteralPath (Join-Path $env:UPTYCS_WINDOWS_PACKAGES 'protect-5.7.0.25/install.ps1') -Raw
        $planted = Join-Path $TestDrive 'planted.ps1'
        Set-Content -LiteralPath $planted -Value ($text.Replace("`$Reboot = `$false", "`$Reboot = `$null ?? `$false`n`$Quiet = `$Reboot ? 'no' : 'yes'"))
        $problems = @(Get-WindowsPowerShell51Problem -Path $planted)
        $problems.Count | Should -Be 2
        $problems[0] | Should -Match 'null-coalescing operator'
        $problems[1] | Should -Match 'ternary operator'
        Set-Content -LiteralPath $planted -Value ($text -replace '(?s)\n\}\n(?!.*\n\}\n)', "`n")
        Get-WindowsPowerShell51Problem -Path $planted | Should -Match 'parse error: Missing closing'
    }
}

Describe 'install.ps1' {
    It 'installs on a host without the agent and waits for its service' {
        $h = New-WindowsHost
        $r = Invoke-PackageScript $h 'protect-5.7.0.25' 'install.ps1'
        $r.ExitCode | Should -Be 0 -Because $r.Output
        Get-InstalledAgent $h | Should -Be @('protect-5.7.0.25')
        Get-MsiexecCall $h | Should -Be @('/i protect-5.7.0.25 0')
        $r.Output | Should -Match 'the agent service uptycsosquery runs'
        Get-AgentServiceStatus $h | Should -Be 'Running'
        (Get-HostState $h).products.DisplayName | Should -Contain 'Microsoft Visual C++ 2015-2022 Redistributable (x64)'
    }

    It 'passes msiexec /qn /norestart and a verbose log, the MSI path quoted (it has spaces)' {
        $h = New-WindowsHost
        $r = Invoke-PackageScript $h 'sensor-5.7.0.25' 'install.ps1'
        $r.ExitCode | Should -Be 0 -Because $r.Output
        $call = (Get-HostState $h).calls[0]
        $call.CommandLine | Should -Match '^/i "[^"]*Windows Host[^"]*\.msi" /qn /norestart /l\*v "[^"]*UptycsAgent-install\.log"$'
        Test-Path -LiteralPath (Join-Path $h 'Windows/Temp/UptycsAgent-install.log') | Should -BeTrue
    }

    It 'succeeds without msiexec when this version is installed (a reinstall)' {
        $h = New-WindowsHost -Installed 'protect-5.7.0.25'
        $r = Invoke-PackageScript $h 'protect-5.7.0.25' 'install.ps1'
        $r.ExitCode | Should -Be 0 -Because $r.Output
        $r.Output | Should -Match 'already installed'
        Get-MsiexecCall $h | Should -BeNullOrEmpty
        Get-InstalledAgent $h | Should -Be @('protect-5.7.0.25')
    }

    It 'removes the other build registered in the 32-bit hive (WOW6432Node)' {
        $h = New-WindowsHost -Installed 'sensor-5.7.0.25' -Wow6432
        $r = Invoke-PackageScript $h 'protect-5.8.0.3' 'install.ps1'
        $r.ExitCode | Should -Be 0 -Because $r.Output
        Get-MsiexecCall $h | Should -Be @('/x sensor-5.7.0.25 0', '/i protect-5.8.0.3 0')
    }

    It 'leaves software that is not the agent alone, even when its name looks like it' {
        $h = New-WindowsHost -Installed 'protect-5.7.0.25'
        $r = Invoke-PackageScript $h 'protect-5.8.0.3' 'install.ps1'
        $r.ExitCode | Should -Be 0 -Because $r.Output
        $state = Get-HostState $h
        $state.products.DisplayName | Should -Contain 'Microsoft Visual C++ 2015-2022 Redistributable (x64)'
        $state.otherKeys.Key | Should -Be @('Notepad++', 'osquery-portable')
        Get-MsiexecCall $h | Should -Be @('/i protect-5.8.0.3 0')
    }

    It 'fails with 1603 naming the code and the log tail; the old version stays where the major upgrade rolled back' {
        $h = New-WindowsHost -Installed 'protect-5.7.0.25' -Forced @{ '/i' = @(1603) }
        $r = Invoke-PackageScript $h 'protect-5.8.0.3' 'install.ps1'
        $r.ExitCode | Should -Be 1603
        $r.Output | Should -Match 'msiexec /i failed with exit code 1603'
        $r.Output | Should -Match 'MainEngineThread is returning 1603'
        Get-InstalledAgent $h | Should -Be @('protect-5.7.0.25')
        Get-MsiexecCall $h | Should -Be @('/i protect-5.8.0.3 1603')
    }

    It 'fails with 1603 after removing the other build when switching (Windows cannot swap in one transaction)' {
        $h = New-WindowsHost -Installed 'sensor-5.7.0.25' -Forced @{ '/i' = @(1603) }
        $r = Invoke-PackageScript $h 'protect-5.7.0.25' 'install.ps1'
        $r.ExitCode | Should -Be 1603
        Get-MsiexecCall $h | Should -Be @('/x sensor-5.7.0.25 0', '/i protect-5.7.0.25 1603')
        Get-InstalledAgent $h | Should -BeNullOrEmpty
    }

    It 'fails with 1618 when another installation is in progress, changing nothing' {
        $h = New-WindowsHost -Forced @{ '/i' = @(1618) }
        $r = Invoke-PackageScript $h 'protect-5.7.0.25' 'install.ps1'
        $r.ExitCode | Should -Be 1618
        $r.Output | Should -Match 'exit code 1618'
        Get-InstalledAgent $h | Should -BeNullOrEmpty
    }

    It 'stops when removing the other build fails, before installing anything' {
        $h = New-WindowsHost -Installed 'sensor-5.7.0.25' -Forced @{ '/x' = @(1603) }
        $r = Invoke-PackageScript $h 'protect-5.7.0.25' 'install.ps1'
        $r.ExitCode | Should -Be 1603
        Get-MsiexecCall $h | Should -Be @('/x sensor-5.7.0.25 1603')
        Get-InstalledAgent $h | Should -Be @('sensor-5.7.0.25')
    }

    It 'exits 3010 for msiexec <Code>, without waiting for the service or letting msiexec restart the host' -ForEach @(
        @{ Code = 3010 }
        @{ Code = 1641 }
    ) {
        $h = New-WindowsHost -Agent 'crashes' -Forced @{ '/i' = @($Code) }
        $r = Invoke-PackageScript $h 'protect-5.7.0.25' 'install.ps1'
        $r.ExitCode | Should -Be 3010 -Because $r.Output
        $r.Output | Should -Match 'a reboot is required'
        $r.Output | Should -Not -Match 'uptycsosquery'
        Get-InstalledAgent $h | Should -Be @('protect-5.7.0.25')
        (Get-HostState $h).rebooted | Should -BeFalse
        Get-AgentServiceStatus $h | Should -Be 'Stopped'
    }
}

Describe 'update.ps1' {
    It 'updates <From> to <To> <How>' -ForEach @(
        @{ From = 'protect-5.7.0.25'; To = 'protect-5.8.0.3'; How = 'through the MSI major upgrade (one transaction)'; Calls = @('/i protect-5.8.0.3 0') }
        @{ From = 'protect-5.7.0.25'; To = 'protect-5.7.0.26'; How = 'removing the old first: the major upgrade keeps a version that differs in the fourth field only'; Calls = @('/x protect-5.7.0.25 0', '/i protect-5.7.0.26 0') }
        @{ From = 'protect-5.8.0.3'; To = 'protect-5.7.0.25'; How = 'back (a pinned rollback), removing the newer first: the MSI alone refuses a downgrade'; Calls = @('/x protect-5.8.0.3 0', '/i protect-5.7.0.25 0') }
    ) {
        $h = New-WindowsHost -Installed $From
        $r = Invoke-PackageScript $h $To 'update.ps1'
        $r.ExitCode | Should -Be 0 -Because $r.Output
        Get-MsiexecCall $h | Should -Be $Calls
        Get-InstalledAgent $h | Should -Be @($To)
    }
}

Describe 'the switch between Protect and sensor-only' {
    It '<Script> switches <From> to <To>: the other build removed first, exactly one build afterwards' -ForEach @(
        @{ Script = 'install.ps1'; From = 'sensor-5.7.0.25'; To = 'protect-5.7.0.25' }
        @{ Script = 'install.ps1'; From = 'protect-5.7.0.25'; To = 'sensor-5.7.0.25' }
        @{ Script = 'update.ps1'; From = 'sensor-5.7.0.25'; To = 'protect-5.8.0.3' }
        @{ Script = 'update.ps1'; From = 'protect-5.8.0.3'; To = 'sensor-5.8.0.3' }
    ) {
        $h = New-WindowsHost -Installed $From
        $r = Invoke-PackageScript $h $To $Script
        $r.ExitCode | Should -Be 0 -Because $r.Output
        Get-MsiexecCall $h | Should -Be @("/x $From 0", "/i $To 0")
        Get-InstalledAgent $h | Should -Be @($To)
    }
}

Describe 'uninstall.ps1' {
    It 'removes <Installed> with the <Package> package' -ForEach @(
        @{ Installed = 'protect-5.7.0.25'; Package = 'protect-5.7.0.25'; Calls = @('/x protect-5.7.0.25 0') }
        @{ Installed = 'sensor-5.7.0.25'; Package = 'protect-5.7.0.25'; Calls = @('/x protect-5.7.0.25 1605', '/x sensor-5.7.0.25 0') }
        @{ Installed = 'protect-5.7.0.26'; Package = 'protect-5.7.0.25'; Calls = @('/x protect-5.7.0.25 1605', '/x protect-5.7.0.26 0') }
    ) {
        $h = New-WindowsHost -Installed $Installed
        $r = Invoke-PackageScript $h $Package 'uninstall.ps1'
        $r.ExitCode | Should -Be 0 -Because $r.Output
        Get-MsiexecCall $h | Should -Be $Calls
        Get-InstalledAgent $h | Should -BeNullOrEmpty
        Get-AgentServiceStatus $h | Should -Be 'Missing'
    }

    It 'succeeds twice: the second msiexec /x answers 1605' {
        $h = New-WindowsHost -Installed 'protect-5.7.0.25'
        (Invoke-PackageScript $h 'protect-5.7.0.25' 'uninstall.ps1').ExitCode | Should -Be 0
        $r = Invoke-PackageScript $h 'protect-5.7.0.25' 'uninstall.ps1'
        $r.ExitCode | Should -Be 0 -Because $r.Output
        Get-MsiexecCall $h | Should -Be @('/x protect-5.7.0.25 0', '/x protect-5.7.0.25 1605')
    }

    It 'fails with msiexec''s code when the removal fails, the agent still installed' {
        $h = New-WindowsHost -Installed 'protect-5.7.0.25' -Forced @{ '/x' = @(1603) }
        $r = Invoke-PackageScript $h 'protect-5.7.0.25' 'uninstall.ps1'
        $r.ExitCode | Should -Be 1603
        $r.Output | Should -Match 'msiexec /x failed with exit code 1603'
        Get-InstalledAgent $h | Should -Be @('protect-5.7.0.25')
    }

    It 'exits 3010 when the removal needs a reboot' {
        $h = New-WindowsHost -Installed 'protect-5.7.0.25' -Forced @{ '/x' = @(3010) }
        $r = Invoke-PackageScript $h 'protect-5.7.0.25' 'uninstall.ps1'
        $r.ExitCode | Should -Be 3010 -Because $r.Output
        Get-InstalledAgent $h | Should -BeNullOrEmpty
    }
}

Describe 'the health check' {
    It 'waits for a service that runs after 3 s' {
        $h = New-WindowsHost -Agent 'slow'
        $r = Invoke-PackageScript $h 'protect-5.7.0.25' 'install.ps1'
        $r.ExitCode | Should -Be 0 -Because $r.Output
        $r.Output | Should -Match 'the agent service uptycsosquery runs'
    }

    It 'fails within timeoutSeconds when the agent never runs, naming the service and its log lines' {
        $h = New-WindowsHost -Agent 'crashes'
        $r = Invoke-PackageScript $h 'protect-5.7.0.25' 'install.ps1'
        $r.ExitCode | Should -Be 1 -Because $r.Output
        $r.Output | Should -Match "the agent service uptycsosquery is Stopped \(start type Automatic\), not Running, after $Timeout s"
        $r.Output | Should -Match 'enrollment failed: could not connect to the Uptycs endpoint'
        $r.Seconds | Should -BeGreaterOrEqual $Timeout
        $r.Seconds | Should -BeLessThan ($Timeout + 10)
        Get-InstalledAgent $h | Should -Be @('protect-5.7.0.25')
    }

    It 'does not wait when the health check is off, and the zip has no validate.ps1' {
        $h = New-WindowsHost -Agent 'crashes'
        $r = Invoke-PackageScript $h 'protect-5.7.0.25-nohealth' 'install.ps1'
        $r.ExitCode | Should -Be 0 -Because $r.Output
        $r.Output | Should -Not -Match 'uptycsosquery'
        $r.Seconds | Should -BeLessThan $Timeout
        Test-Path -LiteralPath (Join-Path $env:UPTYCS_WINDOWS_PACKAGES 'protect-5.7.0.25-nohealth/validate.ps1') | Should -BeFalse
    }

    It 'starts a stopped service whose start type is Automatic' {
        $h = New-WindowsHost -Installed 'protect-5.7.0.25' -Service @{ State = 'Stopped' }
        $r = Invoke-PackageScript $h 'protect-5.7.0.25' 'install.ps1'
        $r.ExitCode | Should -Be 0 -Because $r.Output
        $r.Output | Should -Match 'starting uptycsosquery'
        Get-AgentServiceStatus $h | Should -Be 'Running'
    }

    It 'leaves a stopped service whose start type is Manual, and fails naming it' {
        $h = New-WindowsHost -Installed 'protect-5.7.0.25' -Service @{ State = 'Stopped'; StartType = 'Manual' }
        $r = Invoke-PackageScript $h 'protect-5.7.0.25' 'install.ps1'
        $r.ExitCode | Should -Be 1 -Because $r.Output
        $r.Output | Should -Match 'is Stopped \(start type Manual\)'
        $r.Output | Should -Not -Match 'starting uptycsosquery'
    }

    It 'fails when the product is installed but its service is missing' {
        $h = New-WindowsHost -Installed 'protect-5.7.0.25' -Service @{ Missing = $true }
        $r = Invoke-PackageScript $h 'protect-5.7.0.25' 'install.ps1'
        $r.ExitCode | Should -Be 1 -Because $r.Output
        $r.Output | Should -Match 'the agent service uptycsosquery is not installed'
    }

    It 'validate.ps1 passes when the agent runs' {
        $h = New-WindowsHost -Installed 'protect-5.7.0.25'
        $r = Invoke-PackageScript $h 'protect-5.7.0.25' 'validate.ps1'
        $r.ExitCode | Should -Be 0 -Because $r.Output
        Get-MsiexecCall $h | Should -BeNullOrEmpty
    }

    It 'validate.ps1 fails when the agent does not run' {
        $h = New-WindowsHost -Installed 'protect-5.7.0.25' -Agent 'crashes' -Service @{ State = 'Stopped'; StartType = 'Manual' }
        $r = Invoke-PackageScript $h 'protect-5.7.0.25' 'validate.ps1'
        $r.ExitCode | Should -Be 1 -Because $r.Output
        $r.Output | Should -Match 'uptycsosquery is Stopped'
        Get-MsiexecCall $h | Should -BeNullOrEmpty
    }
}

Describe "Distributor's upgrade and rollback" {
    It 'upgrades with the old version''s uninstall.ps1, then the new install.ps1' {
        $h = New-WindowsHost -Installed 'protect-5.7.0.25'
        (Invoke-PackageScript $h 'protect-5.7.0.25' 'uninstall.ps1').ExitCode | Should -Be 0
        $r = Invoke-PackageScript $h 'protect-5.8.0.3' 'install.ps1'
        $r.ExitCode | Should -Be 0 -Because $r.Output
        (Invoke-PackageScript $h 'protect-5.8.0.3' 'validate.ps1').ExitCode | Should -Be 0
        Get-MsiexecCall $h | Should -Be @('/x protect-5.7.0.25 0', '/i protect-5.8.0.3 0')
        Get-InstalledAgent $h | Should -Be @('protect-5.8.0.3')
    }

    It 'rolls back after a failed validate: the new uninstall.ps1, then the old install.ps1' {
        $h = New-WindowsHost -Installed 'protect-5.7.0.25' -Agent @{ '5.8.0.3' = 'crashes'; default = 'healthy' }
        (Invoke-PackageScript $h 'protect-5.8.0.3-nohealth' 'update.ps1').ExitCode | Should -Be 0
        (Invoke-PackageScript $h 'protect-5.8.0.3' 'validate.ps1').ExitCode | Should -Be 1
        (Invoke-PackageScript $h 'protect-5.8.0.3' 'uninstall.ps1').ExitCode | Should -Be 0
        $r = Invoke-PackageScript $h 'protect-5.7.0.25' 'install.ps1'
        $r.ExitCode | Should -Be 0 -Because $r.Output
        Get-MsiexecCall $h | Should -Be @('/i protect-5.8.0.3 0', '/x protect-5.8.0.3 0', '/i protect-5.7.0.25 0')
        Get-InstalledAgent $h | Should -Be @('protect-5.7.0.25')
        Get-AgentServiceStatus $h | Should -Be 'Running'
    }
}
