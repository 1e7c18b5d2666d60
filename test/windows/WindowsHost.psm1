# A simulated Windows host for the package's PowerShell scripts: stand-ins for what PowerShell 7 on
# Linux lacks (msiexec, the uninstall registry keys, the WindowsInstaller.Installer COM object, the
# agent's Windows service), each answering as Windows does. Imported into the session that runs a
# script unmodified (Invoke-PackageScript.ps1); PowerShell resolves a function before a cmdlet, so
# these functions take the place of Start-Process (msiexec only), Get-ItemProperty (HKLM: only),
# New-Object (-ComObject only) and Get-Service for that script. Anything else they are asked is
# either passed to the real cmdlet or refused loudly: a stand-in never guesses.
#
# The host's state lives in one JSON file (host.json beside the case's folders), so a case can run
# several scripts in turn (Distributor's upgrade: the old uninstall, then the new install):
#   products   Windows Installer products: ProductCode, UpgradeCode, DisplayName, DisplayVersion,
#              Wow6432 (registered under WOW6432Node), Agent (installs the agent's service)
#   otherKeys  uninstall keys that are no Windows Installer product: Key, DisplayName, DisplayVersion
#   service    the agent's service uptycsosquery, or null: StartType, State (Stopped, Starting,
#              Running), StartedAt (epoch ms)
#   agent      what the agent does when its service starts: healthy (Running at once), slow
#              (StartPending for slowSeconds, then Running), crashes (StartPending 1 s, then Stopped,
#              after writing an error to its log); or a map of agent version to one of those, with
#              a "default" entry
#   forced     exit codes a case sets per msiexec action ("/i", "/x"), taken one per call, in order
#   calls      what msiexec was asked (CommandLine, Action, Target, ExitCode), appended per call
#   rebooted   true when msiexec would have restarted the host itself (a reboot without /norestart)
param([Parameter(Mandatory)][string]$HostFile)

Set-StrictMode -Version 3.0
$script:HostFile = $HostFile
$script:ServiceName = 'uptycsosquery'
$script:UninstallRoots = @{
    'SOFTWARE\Microsoft\Windows\CurrentVersion\Uninstall' = $false
    'SOFTWARE\WOW6432Node\Microsoft\Windows\CurrentVersion\Uninstall' = $true
}
# The COM stand-in, compiled once per suite run when the suite says where (WindowsCases.ps1).
if ($env:UPTYCS_MSI_STANDIN_DLL) { Add-Type -Path $env:UPTYCS_MSI_STANDIN_DLL } else { Add-Type -Path (Join-Path $PSScriptRoot 'MsiStandIn.cs') }

# System.ServiceProcess.TimeoutException as WaitForStatus throws it. On Linux that assembly is a
# stub whose constructors throw PlatformNotSupportedException, so the instance is made without one
# and given Windows' message.
function New-ServiceTimeoutException {
    $e = [System.Runtime.CompilerServices.RuntimeHelpers]::GetUninitializedObject([System.ServiceProcess.TimeoutException])
    [System.Exception].GetField('_message', [System.Reflection.BindingFlags]'NonPublic,Instance').SetValue($e, 'Time out has expired and the operation has not been completed.')
    $e
}

function Read-HostState { Get-Content -LiteralPath $script:HostFile -Raw | ConvertFrom-Json -AsHashtable }
function Write-HostState([hashtable]$State) { $State | ConvertTo-Json -Depth 10 | Set-Content -LiteralPath $script:HostFile }
function Get-NowMs { [DateTimeOffset]::UtcNow.ToUnixTimeMilliseconds() }
function Get-AgentFolder { Join-Path $env:ProgramFiles 'Uptycs\osquery' }

# ---- The service (Service Control Manager) -------------------------------------------------------

# The service's status now: what the SCM would answer, from its state and the agent's behaviour.
function Get-ServiceStatus([hashtable]$State) {
    $svc = $State.service
    switch ($svc.State) {
        'Stopped' { return [System.ServiceProcess.ServiceControllerStatus]::Stopped }
        'Running' { return [System.ServiceProcess.ServiceControllerStatus]::Running }
    }
    $elapsed = (Get-NowMs) - $svc.StartedAt
    switch (Get-AgentMode $State) {
        'healthy' { return [System.ServiceProcess.ServiceControllerStatus]::Running }
        'slow' {
            if ($elapsed -lt $State.slowSeconds * 1000) { return [System.ServiceProcess.ServiceControllerStatus]::StartPending }
            return [System.ServiceProcess.ServiceControllerStatus]::Running
        }
        'crashes' {
            if ($elapsed -lt 1000) { return [System.ServiceProcess.ServiceControllerStatus]::StartPending }
            return [System.ServiceProcess.ServiceControllerStatus]::Stopped
        }
    }
    throw "host.json: agent must be healthy, slow or crashes, not $(Get-AgentMode $State)"
}

# How the installed agent behaves (host.json's agent, by the version whose service this is).
function Get-AgentMode([hashtable]$State) {
    if ($State.agent -is [string]) { return $State.agent }
    $byVersion = $State.agent
    if ($byVersion.ContainsKey($State.service.Version)) { return $byVersion[$State.service.Version] }
    return $byVersion['default']
}

# The SCM starts the service's process: a crashing agent writes its error to its log as it dies.
function Start-AgentProcess([hashtable]$State) {
    $State.service.State = 'Starting'
    $State.service.StartedAt = Get-NowMs
    if ((Get-AgentMode $State) -eq 'crashes') {
        $logs = Join-Path (Get-AgentFolder) 'log'
        New-Item -ItemType Directory -Force -Path $logs | Out-Null
        Add-Content -LiteralPath (Join-Path $logs 'osqueryd.ERROR') -Value 'E1205 uptycsosquery: enrollment failed: could not connect to the Uptycs endpoint (connection refused); exiting'
    }
}

# System.ServiceProcess.ServiceController as Get-Service returns it: Status and StartType are read
# once and kept until Refresh() (the real class caches them the same way); WaitForStatus polls every
# 250 ms and throws System.ServiceProcess.TimeoutException when its timeout passes; Start() of a
# running service, or of a disabled one, throws InvalidOperationException (learn.microsoft.com,
# ServiceController.WaitForStatus, ServiceController.Start).
class ServiceControllerStandIn {
    [string] $Name
    [string] $ServiceName
    [string] $DisplayName
    [System.ServiceProcess.ServiceControllerStatus] $Status
    [System.ServiceProcess.ServiceStartMode] $StartType

    ServiceControllerStandIn([string] $name) {
        $this.Name = $name
        $this.ServiceName = $name
        $this.DisplayName = 'Uptycs osquery agent'
        $this.Refresh()
    }

    [void] Refresh() {
        $state = Read-HostState
        if ($null -eq $state.service) {
            throw [System.InvalidOperationException]::new("Service $($this.Name) was not found on computer '.'.")
        }
        $this.Status = Get-ServiceStatus $state
        $this.StartType = $state.service.StartType
    }

    [void] WaitForStatus([System.ServiceProcess.ServiceControllerStatus] $desired, [TimeSpan] $timeout) {
        $deadline = [DateTime]::UtcNow + $timeout
        while ($true) {
            $this.Refresh()
            if ($this.Status -eq $desired) { return }
            if ([DateTime]::UtcNow -ge $deadline) {
                throw (New-ServiceTimeoutException)
            }
            Start-Sleep -Milliseconds 250
        }
    }

    [void] Start() {
        $state = Read-HostState
        if ($null -eq $state.service) { throw [System.InvalidOperationException]::new("Service $($this.Name) was not found on computer '.'.") }
        if ($state.service.StartType -eq 'Disabled') { throw [System.InvalidOperationException]::new("Cannot start service $($this.Name) on computer '.'.") }
        if ((Get-ServiceStatus $state) -ne [System.ServiceProcess.ServiceControllerStatus]::Stopped) {
            throw [System.InvalidOperationException]::new("Cannot start service $($this.Name) on computer '.': an instance of the service is already running.")
        }
        Start-AgentProcess $state
        Write-HostState $state
    }
}

<#
.SYNOPSIS
Get-Service as Windows answers it for the agent's service: a ServiceController, or for a missing
service the error "Cannot find any service with service name" (silent with -ErrorAction
SilentlyContinue). Other services are refused: the scripts ask for none.
#>
function Get-Service {
    [CmdletBinding()]
    param([Parameter(Mandatory, Position = 0)][string[]]$Name)
    foreach ($n in $Name) {
        if ($n -ne $script:ServiceName) { throw "stand-in: the scripts ask for no service but $($script:ServiceName), not $n" }
        if ($null -eq (Read-HostState).service) {
            $err = [System.Management.Automation.ErrorRecord]::new(
                # Windows raises Microsoft.PowerShell.Commands.ServiceCommandException, which PowerShell on Linux lacks.
                [System.InvalidOperationException]::new("Cannot find any service with service name '$n'."),
                'NoServiceFoundForGivenName,Microsoft.PowerShell.Commands.GetServiceCommand',
                [System.Management.Automation.ErrorCategory]::ObjectNotFound, $n)
            $PSCmdlet.WriteError($err)
            continue
        }
        [ServiceControllerStandIn]::new($n)
    }
}

# ---- The uninstall registry keys -----------------------------------------------------------------

# One uninstall key as Get-ItemProperty returns it: its values, and the PS* properties of the path.
function New-UninstallKey([string]$Root, [string]$Key, [hashtable]$Values) {
    $parent = "Microsoft.PowerShell.Core\Registry::HKEY_LOCAL_MACHINE\$Root"
    $item = [ordered]@{}
    foreach ($k in $Values.Keys) { $item[$k] = $Values[$k] }
    $item.PSPath = "$parent\$Key"
    $item.PSParentPath = $parent
    $item.PSChildName = $Key
    $item.PSProvider = 'Microsoft.PowerShell.Core\Registry'
    [pscustomobject]$item
}

# Every key under one of the two uninstall roots, read from the product table: a Windows Installer
# product is the key {ProductCode}, with the values msiexec writes (MsiPublishProduct).
function Get-UninstallKeys([string]$Root) {
    $wow = $script:UninstallRoots[$Root]
    $state = Read-HostState
    foreach ($p in $state.products) {
        if ([bool]$p.Wow6432 -ne $wow) { continue }
        New-UninstallKey $Root $p.ProductCode @{
            DisplayName = $p.DisplayName; DisplayVersion = $p.DisplayVersion; Publisher = 'Uptycs'
            UninstallString = "MsiExec.exe /X$($p.ProductCode)"; WindowsInstaller = 1
        }
    }
    foreach ($o in $state.otherKeys) {
        if ($wow) { continue }
        $values = @{}
        foreach ($k in $o.Keys) { if ($k -ne 'Key') { $values[$k] = $o[$k] } }
        New-UninstallKey $Root $o.Key $values
    }
}

<#
.SYNOPSIS
Get-ItemProperty for HKLM:\<uninstall root>\<key pattern> (both hives), as the registry provider
answers: one object per matching key; a path that matches nothing is the error "Cannot find path"
(a wildcard that matches nothing writes none). Other HKLM: paths are refused; other drives go to
the real cmdlet.
#>
function Get-ItemProperty {
    [CmdletBinding()]
    param([Parameter(Mandatory, Position = 0)][string[]]$Path, [Parameter(Position = 1)][string[]]$Name)
    $other = @($Path | Where-Object { $_ -notlike 'HKLM:\*' })
    if ($other.Count -gt 0) {
        if ($other.Count -ne $Path.Count) { throw 'stand-in: HKLM: paths and other paths in one call' }
        return Microsoft.PowerShell.Management\Get-ItemProperty @PSBoundParameters
    }
    if ($PSBoundParameters.ContainsKey('Name')) { throw 'stand-in: -Name is not modelled' }
    foreach ($p in $Path) {
        $relative = $p.Substring('HKLM:\'.Length)
        $cut = $relative.LastIndexOf('\')
        $root = $relative.Substring(0, [math]::Max($cut, 0))
        $leaf = $relative.Substring($cut + 1)
        $known = @($script:UninstallRoots.Keys | Where-Object { $_ -eq $root })
        if ($known.Count -eq 0) { throw "stand-in: the registry path $p is not modelled (only the two uninstall roots are)" }
        $keys = @(Get-UninstallKeys $known[0] | Where-Object { $_.PSChildName -like $leaf })
        if ($keys.Count -eq 0 -and -not [System.Management.Automation.WildcardPattern]::ContainsWildcardCharacters($leaf)) {
            $err = [System.Management.Automation.ErrorRecord]::new(
                [System.Management.Automation.ItemNotFoundException]::new("Cannot find path '$p' because it does not exist."),
                'PathNotFound,Microsoft.PowerShell.Commands.GetItemPropertyCommand',
                [System.Management.Automation.ErrorCategory]::ObjectNotFound, $p)
            $PSCmdlet.WriteError($err)
            continue
        }
        $keys
    }
}

# ---- COM -----------------------------------------------------------------------------------------

<#
.SYNOPSIS
New-Object: -ComObject WindowsInstaller.Installer gives the stand-in of MsiStandIn.cs; any other
ProgID is refused; everything else goes to the real cmdlet.
#>
function New-Object {
    [CmdletBinding(DefaultParameterSetName = 'Net')]
    param(
        [Parameter(ParameterSetName = 'Net', Mandatory, Position = 0)][string]$TypeName,
        [Parameter(ParameterSetName = 'Net', Position = 1)][object[]]$ArgumentList,
        [Parameter(ParameterSetName = 'Com', Mandatory)][string]$ComObject,
        [System.Collections.IDictionary]$Property
    )
    if ($PSCmdlet.ParameterSetName -eq 'Com') {
        if ($ComObject -ne 'WindowsInstaller.Installer') { throw "stand-in: no COM class $ComObject is modelled" }
        return [WindowsHostStandIn.Installer]::new($script:HostFile)
    }
    Microsoft.PowerShell.Utility\New-Object @PSBoundParameters
}

# ---- msiexec -------------------------------------------------------------------------------------

# Splits a command line as Windows programs do (CommandLineToArgvW): white space separates, double
# quotes group, backslashes before a quote escape it.
function Split-CommandLine([string]$Line) {
    $parts = [System.Collections.Generic.List[string]]::new()
    $current = [System.Text.StringBuilder]::new()
    $inQuotes = $false
    $has = $false
    for ($i = 0; $i -lt $Line.Length; $i++) {
        $c = $Line[$i]
        if ($c -eq '\') {
            $n = 0
            while ($i -lt $Line.Length -and $Line[$i] -eq '\') { $n++; $i++ }
            if ($i -lt $Line.Length -and $Line[$i] -eq '"') {
                [void]$current.Append('\' * [math]::Floor($n / 2))
                if ($n % 2 -eq 1) { [void]$current.Append('"') } else { $inQuotes = -not $inQuotes }
            } else {
                [void]$current.Append('\' * $n)
                $i--
            }
            $has = $true
        } elseif ($c -eq '"') {
            $inQuotes = -not $inQuotes
            $has = $true
        } elseif (-not $inQuotes -and [char]::IsWhiteSpace($c)) {
            if ($has) { $parts.Add($current.ToString()); [void]$current.Clear(); $has = $false }
        } else {
            [void]$current.Append($c)
            $has = $true
        }
    }
    if ($has) { $parts.Add($current.ToString()) }
    return , $parts.ToArray()
}

# Windows Installer compares only the first three fields of ProductVersion (learn.microsoft.com,
# "ProductVersion property": "Windows Installer uses only the first three fields").
function Get-MsiVersionKey([string]$Version) {
    $v = [version]$Version
    return [version]::new($v.Major, $v.Minor, [math]::Max($v.Build, 0))
}

function Write-MsiLog([string]$LogFile, [string[]]$Lines) {
    if (-not $LogFile) { return }
    Set-Content -LiteralPath $LogFile -Value (@("=== Verbose logging started: $(Get-Date -Format 'dd/MM/yyyy  HH:mm:ss')  Build type: SHIP UNICODE 5.00.10011.00  Calling process: C:\Windows\system32\msiexec.exe ===") + $Lines + @('=== Logging stopped ==='))
}

# What msiexec does with one parsed command line, on the host's state; returns its exit code
# (learn.microsoft.com, "MsiExec.exe and InstMsi.exe error messages"). Changes apply only when it
# returns 0, 3010 or 1641 (a failed installation rolls back).
function Invoke-MsiexecAction([hashtable]$State, [string]$Action, [string]$Target, [string]$LogFile, [bool]$NoRestart) {
    $queue = $State.forced[$Action]
    $forced = $null
    if ($queue -and $queue.Count -gt 0) {
        $forced = $queue[0]
        $State.forced[$Action] = @($queue | Select-Object -Skip 1)
    }
    switch ($forced) {
        1603 { Write-MsiLog $LogFile @('MSI (s) (A4:B8): Note: 1: 1708', 'Action ended: INSTALL. Return value 3.', 'MSI (s) (A4:B8): Product: Uptycs -- Installation operation failed.', 'MainEngineThread is returning 1603'); return 1603 }
        1618 { Write-MsiLog $LogFile @('MSI (c) (10:14): Another installation is in progress. You must complete that installation before continuing this one.', 'MainEngineThread is returning 1618'); return 1618 }
    }
    $reboot = $forced -in @(3010, 1641)
    if ($Action -eq '/x') {
        if ($Target -match '^\{[0-9A-Fa-f-]{36}\}$') { $code = $Target }
        else {
            if (-not (Test-Path -LiteralPath $Target)) { Write-MsiLog $LogFile @("MSI (c): Note: 1: 2203 2: $Target 3: -2147287038", 'MainEngineThread is returning 1619'); return 1619 }
            $code = ([WindowsHostStandIn.FakeMsi]::ReadProperties($Target)).ProductCode
        }
        $product = @($State.products | Where-Object { $_.ProductCode -eq $code })
        if ($product.Count -eq 0) {
            Write-MsiLog $LogFile @("MSI (c): Note: 1: 1605 (product $code is not installed)", 'This action is only valid for products that are currently installed.', 'MainEngineThread is returning 1605')
            return 1605
        }
        $State.products = @($State.products | Where-Object { $_.ProductCode -ne $code })
        if ($product[0].Agent) {
            # The service is deleted once stopped; the agent's files go with the product.
            $State.service = $null
            $conf = Join-Path (Get-AgentFolder) 'bin'
            if (Test-Path -LiteralPath $conf) { Remove-Item -LiteralPath $conf -Recurse -Force }
        }
        $result = if ($reboot) { $forced } else { 0 }
        Write-MsiLog $LogFile @("MSI (s): Product: $($product[0].DisplayName) -- Removal completed successfully.", "MainEngineThread is returning $result")
        return $result
    }
    # /i
    if (-not (Test-Path -LiteralPath $Target)) { Write-MsiLog $LogFile @("MSI (c): Note: 1: 2203 2: $Target 3: -2147287038", 'MainEngineThread is returning 1619'); return 1619 }
    $msi = [WindowsHostStandIn.FakeMsi]::ReadProperties($Target)
    $installed = @($State.products | Where-Object { $_.ProductCode -eq $msi.ProductCode })
    if ($installed.Count -gt 0) {
        # The product is installed: msiexec /i without REINSTALL enters maintenance mode and changes nothing.
        Write-MsiLog $LogFile @("MSI (s): Product: $($msi.ProductName) -- Configuration completed successfully.", 'MainEngineThread is returning 0')
        return 0
    }
    $key = Get-MsiVersionKey $msi.ProductVersion
    $related = @($State.products | Where-Object { $_.UpgradeCode -eq $msi.UpgradeCode })
    # A major upgrade as WiX's MajorUpgrade element authors it by default: older versions (three
    # fields) of the UpgradeCode are removed in the same transaction, a newer one refuses the
    # install (DowngradeErrorMessage), one of the same three fields stays (AllowSameVersionUpgrades no).
    $newer = @($related | Where-Object { (Get-MsiVersionKey $_.DisplayVersion) -gt $key })
    if ($newer.Count -gt 0) {
        Write-MsiLog $LogFile @("MSI (s): Product: $($msi.ProductName) -- A newer version of $($msi.ProductName) is already installed.", 'Action ended: LaunchConditions. Return value 3.', 'MainEngineThread is returning 1603')
        return 1603
    }
    $replaced = @($related | Where-Object { (Get-MsiVersionKey $_.DisplayVersion) -lt $key } | ForEach-Object { $_.ProductCode })
    # Both builds install the service uptycsosquery: with another agent product still installed,
    # InstallServices fails (error 1923, the service exists) and the installation rolls back.
    $blocking = @($State.products | Where-Object { $_.Agent -and $replaced -notcontains $_.ProductCode })
    if ($msi.Agent -eq 'true' -and $blocking.Count -gt 0) {
        Write-MsiLog $LogFile @("MSI (s): Product: $($msi.ProductName) -- Error 1923. Service 'Uptycs osquery agent' ($($script:ServiceName)) could not be installed. Verify that you have sufficient privileges to install system services.", "MSI (s): the service is installed by $($blocking[0].DisplayName) $($blocking[0].DisplayVersion)", 'Action ended: InstallFinalize. Return value 3.', 'MainEngineThread is returning 1603')
        return 1603
    }
    $State.products = @($State.products | Where-Object { $replaced -notcontains $_.ProductCode }) + @(@{
            ProductCode = $msi.ProductCode; UpgradeCode = $msi.UpgradeCode; DisplayName = $msi.ProductName
            DisplayVersion = $msi.ProductVersion; Wow6432 = $false; Agent = ($msi.Agent -eq 'true')
        })
    if ($msi.Agent -eq 'true') {
        New-Item -ItemType Directory -Force -Path (Join-Path (Get-AgentFolder) 'bin'), (Join-Path (Get-AgentFolder) 'conf') | Out-Null
        $State.service = @{ StartType = 'Automatic'; State = 'Stopped'; StartedAt = 0; Version = $msi.ProductVersion }
        # StartServices runs at the end of the install; with a reboot pending the files in use are
        # replaced at the restart and the service starts then.
        if (-not $reboot) { Start-AgentProcess $State }
    }
    if ($reboot -and -not $NoRestart) {
        # Without /norestart a quiet install restarts the host itself when it needs a reboot.
        $State.rebooted = $true
    }
    $result = if ($reboot) { $forced } else { 0 }
    Write-MsiLog $LogFile @("MSI (s): Product: $($msi.ProductName) -- Installation completed successfully.", "MainEngineThread is returning $result")
    return $result
}

# An exited process as Start-Process -PassThru returns it. Without -Wait the process is still
# running: reading ExitCode throws, as System.Diagnostics.Process does before the exit.
function New-ProcessResult([int]$ExitCode, [bool]$Waited) {
    $p = [pscustomobject]@{ ProcessName = 'msiexec'; Id = 4242 }
    if ($Waited) { $p | Add-Member -NotePropertyName ExitCode -NotePropertyValue $ExitCode }
    else { $p | Add-Member -MemberType ScriptProperty -Name ExitCode -Value { throw [System.InvalidOperationException]::new('No process is associated with this object.') } }
    $p
}

<#
.SYNOPSIS
Start-Process for msiexec.exe (other programs go to the real cmdlet). Windows PowerShell joins
-ArgumentList with spaces into one command line, which msiexec splits as every Windows program
does: a path with a space must carry its own quotes. msiexec needs /qn (with UI it would wait for a
user the SSM agent's session never has) and writes /l*v's log; it fails with 1622 when the log's
folder does not exist and 1639 for a command line it does not know.
#>
function Start-Process {
    [CmdletBinding()]
    param(
        [Parameter(Mandatory, Position = 0)][string]$FilePath,
        [Parameter(Position = 1)][string[]]$ArgumentList,
        [switch]$Wait, [switch]$PassThru, [switch]$NoNewWindow,
        [string]$WorkingDirectory, [string]$RedirectStandardOutput, [string]$RedirectStandardError
    )
    if ($FilePath -notmatch '^(.*\\)?msiexec(\.exe)?$') { return Microsoft.PowerShell.Management\Start-Process @PSBoundParameters }
    $line = ($ArgumentList -join ' ')
    $argv = Split-CommandLine $line
    $action = $null; $target = $null; $logFile = $null; $quiet = $false; $noRestart = $false; $bad = $null
    for ($i = 0; $i -lt $argv.Count; $i++) {
        $a = $argv[$i]
        switch -regex ($a) {
            '^/(i|x)$' { $action = $a.ToLowerInvariant(); $i++; $target = if ($i -lt $argv.Count) { $argv[$i] } else { $null } ; break }
            '^/qn$' { $quiet = $true; break }
            '^/norestart$' { $noRestart = $true; break }
            '^/l\*v$' { $i++; $logFile = if ($i -lt $argv.Count) { $argv[$i] } else { $null }; break }
            '^[A-Z_][A-Z0-9_]*=' { break }
            default { $bad = $a }
        }
    }
    $state = Read-HostState
    $call = [ordered]@{ CommandLine = $line; Action = $action; Target = $target; ExitCode = $null }
    if (-not $quiet) { throw "stand-in: msiexec $line has no /qn: it would show its UI and wait for a user forever" }
    if ($bad -or -not $action -or -not $target) { $exit = 1639 }
    elseif ($logFile -and -not (Test-Path -LiteralPath (Split-Path -Parent $logFile))) { $exit = 1622 }
    else { $exit = Invoke-MsiexecAction $state $action $target $logFile $noRestart }
    $call.ExitCode = $exit
    $state.calls = @($state.calls) + @($call)
    Write-HostState $state
    if ($PassThru) { New-ProcessResult $exit $Wait.IsPresent }
}

Export-ModuleMember -Function Get-Service, Get-ItemProperty, New-Object, Start-Process
